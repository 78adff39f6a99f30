"""A transcript as lines a language model reads ("Alice: ..."), cut into pieces that fit its context.

Every line keeps its speaker's name, so a piece summarised on its own still knows who said what.
Tokens are estimated from characters (no tokenizer is shared by every OpenAI-compatible
endpoint): CHARS_PER_TOKEN is on the safe side of what Qwen's and Llama's tokenizers give on
French and English speech (3.1 to 4 characters per token).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hearback.result import Transcript

CHARS_PER_TOKEN = 2.8
UNKNOWN_SPEAKER = "?"
_MARKUP = re.compile(r"[<>]")  # a speaker cannot close the transcript's tag: it is data, not instructions


@dataclass(frozen=True)
class Line:
    """One segment of the transcript: who, when, what."""

    start: float
    speaker: str
    text: str


def lines_of(transcript: Transcript) -> list[Line]:
    return [Line(s.start, s.speaker or UNKNOWN_SPEAKER, _MARKUP.sub(" ", " ".join(s.text.split())))
            for s in transcript.segments if s.text.strip()]


def render(lines: list[Line]) -> str:
    """One line per speaker turn: consecutive segments of a speaker are joined."""
    turns: list[tuple[str, list[str]]] = []
    for line in lines:
        if turns and turns[-1][0] == line.speaker:
            turns[-1][1].append(line.text)
        else:
            turns.append((line.speaker, [line.text]))
    return "\n".join(f"{speaker}: {' '.join(texts)}" for speaker, texts in turns)


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def split(lines: list[Line], budget: int) -> list[list[Line]]:
    """Consecutive pieces, each rendering to at most `budget` tokens; a line longer than the
    budget on its own is cut between words."""
    pieces: list[list[Line]] = []
    current: list[Line] = []
    used = 0
    for line in (part for line in lines for part in _fitting(line, budget)):
        cost = tokens(f"{line.speaker}: {line.text}\n")
        if current and used + cost > budget:
            pieces.append(current)
            current, used = [], 0
        current.append(line)
        used += cost
    if current:
        pieces.append(current)
    return pieces


def _fitting(line: Line, budget: int) -> list[Line]:
    room = int((budget - tokens(f"{line.speaker}: \n")) * CHARS_PER_TOKEN)
    if len(line.text) <= room:
        return [line]
    parts, current = [], ""
    for word in line.text.split():
        if current and len(current) + 1 + len(word) > room:
            parts.append(current)
            current = ""
        current = f"{current} {word}".strip()
    return [Line(line.start, line.speaker, text) for text in [*parts, current] if text]
