"""Text folded for search: case, accents and typographic variants set aside, the same way on
SQLite and PostgreSQL (the folded text is stored beside the text, `utterances.search_text`,
and the words looked for are folded the same way)."""

from __future__ import annotations

import unicodedata

from hearback.errors import visible

# Letters NFKD does not take apart, and the apostrophes and dashes people type interchangeably.
_REPLACED = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
                           "đ": "d", "Đ": "d", "’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-", "–": "-",
                           "—": "-", "\u00a0": " ", "\u202f": " "})


def fold(text: str) -> str:
    """`"Différences"`, `"DIFFERENCES"` and `"différences"` all fold to `"differences"`."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_REPLACED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


NAME_KEY_LENGTH = 600  # a 200-character name, case-folded (ß -> ss), with room to spare
# Cyrillic and Greek letters drawn like Latin ones (Unicode's confusables, the common ones only:
# enough to stop "Gоnzalez" with a Cyrillic о passing for "Gonzalez"; not the whole table).
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ϲ": "c", "ı": "i"})


def name_key(name: str) -> str:
    """The key two names collide on (`speakers.name_key`, `groups.name_key`) and a name is looked
    for by: `fold` of what is visible (`hearback.errors.visible`: NFKC, no invisible characters),
    lookalike Cyrillic and Greek letters read as the Latin ones. "Gonzalez" with a zero-width joiner,
    a Cyrillic о, a decomposed or an accented á are all "gonzalez": one person, one name."""
    return fold(visible(name or "")).translate(_LOOKALIKES).strip()
