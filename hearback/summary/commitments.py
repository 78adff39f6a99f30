"""Whether a line commits someone to something: an action item needs a line that does.

A small model also lists opinions and status remarks as action items ("Je pense qu'il faut revoir
le budget avec la direction", owner: whoever said it). A commitment is said in a few recognisable
ways: someone taking a task in the first person ("je m'occupe", "j'envoie", "I will"), someone
asked to ("tu peux ...?", "could you ...?"), a task given to a named person ("Bruno s'en charge"),
or a deadline. A line with none of these is not an action item, whatever the model says.
"""

from __future__ import annotations

import re

import hearback.summary.dates as dates

# First-person verbs that state a view, not a task: "je pense qu'il faut" commits no one.
OPINION_VERBS = ("pense", "crois", "trouve", "sais", "suis", "ai", "avais", "etais", "imagine", "suppose",
                 "dirais", "aime", "prefere", "vois", "comprends", "sens", "ne", "n'")
_OPINION = "|".join(OPINION_VERBS)
CUES = [
    # French: the speaker takes it ("je m'occupe", "j'envoie", "je vais", "je le fais", "je l'envoie")
    rf"\bje\s+(?!(?:{_OPINION})\b)(?:m'|me\s+|le\s+|la\s+|les\s+|l'|lui\s+|leur\s+|vous\s+|t'|te\s+)?[a-z]+",
    r"\bj'(?!(?:ai|avais|etais|imagine|aime|adore)\b)[a-z]+",
    # French: someone is asked or given it
    r"\b(?:tu\s+peux|tu\s+pourrais|peux-tu|pourrais-tu|vous\s+pouvez|vous\s+pourriez|pouvez-vous|pourriez-vous)\b",
    r"\b(?:s'en\s+charge|se\s+charge|s'occupe|va\s+s'occuper|prend\s+en\s+charge)\b",
    # English: the speaker takes it, or someone is asked
    r"\b(?:i\s+will|i'll|i\s+am\s+going\s+to|i'm\s+going\s+to|i\s+can|let\s+me|i'm\s+on\s+it|i\s+take)\b",
    r"\b(?:can\s+you|could\s+you|would\s+you|will\s+you|please)\b",
    r"\b(?:will\s+handle|is\s+going\s+to|takes\s+care|will\s+take\s+care)\b",
]
_CUES = re.compile("|".join(f"(?:{cue})" for cue in CUES))


def commits(text: str, language: str = "fr") -> bool:
    """Whether `text` (a line, with the owner's reply) commits someone: a commitment's wording, or
    a deadline said in it."""
    flat = dates.plain(text)
    return bool(_CUES.search(flat)) or dates.find(text, language) is not None
