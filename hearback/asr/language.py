"""A language for every stretch of speech, with hysteresis.

Whisper names the language of a 30 s window from its encoder output (one decoder step, nearly
free once the window is encoded for decoding). A chunk whose language is clear is decoded in it.
A chunk that is not clear (two languages, or a recording whose language is not the one asked for)
is looked at region by region: each region long enough to judge gets its own detection, and a
region whose detection is not clear keeps the language of its neighbours, or of the recording so
far, so that one short word does not flip the language.

Whisper base is often wrong about short or phone-band stretches (French heard as Italian or
Russian): a stretch takes a language outside the expected ones (`HEARBACK_LANGUAGES`, French and
English by default, plus those already heard clearly in the recording) only when Whisper is very
sure (SURE); otherwise the detection is read among the expected languages only.

Measured on the phone-band lookalikes of the mixed meeting (bench/language_eval.py): padded
region windows identify the language; windows cut to the region's length do not (Russian for
French), so regions are padded to 30 s like chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from hearback.result import SpeechRegion

CLEAR = 0.8  # a chunk whose top language has this probability is decoded in it without a closer look
CLEAR_REGION = 0.7  # a region needs this much to take a language other than its neighbours'
ASKED_STILL_LIKELY = 0.15  # with a fixed language, a region keeps it while it is at least this likely
MIN_REGION_SECONDS = 1.0  # shorter regions are too short to judge: they follow their neighbours
SURE = 0.9  # probability a language outside the expected ones needs


@dataclass(frozen=True)
class Detection:
    """Whisper's language probabilities for one window, most likely first."""

    ranked: tuple[tuple[str, float], ...]

    @classmethod
    def from_whisper(cls, pairs: Sequence[tuple[str, float]]) -> "Detection":
        """From CTranslate2's `detect_language` output: [("<|fr|>", 0.93), ...]."""
        return cls(tuple((token.strip("<|>"), float(p)) for token, p in pairs))

    @property
    def language(self) -> str:
        return self.ranked[0][0]

    @property
    def probability(self) -> float:
        return self.ranked[0][1]

    def of(self, language: str) -> float:
        return next((p for lang, p in self.ranked if lang == language), 0.0)

    def among(self, expected: frozenset[str]) -> "Detection":
        """The detection read among the `expected` languages, unless Whisper is sure of another:
        phone-band English heard as en 0.57, cy 0.37 is English, not an unclear chunk."""
        if not expected or self.probability >= SURE:
            return self
        kept = [(lang, p) for lang, p in self.ranked if lang in expected]
        total = sum(p for _, p in kept)
        if total <= 0:
            return self
        return Detection(tuple((lang, p / total) for lang, p in kept))


def chunk_is_clear(detection: Detection, asked: Optional[str]) -> Optional[str]:
    """The chunk's language when no closer look is needed, else None."""
    if asked:
        return asked if detection.of(asked) >= CLEAR else None
    return detection.language if detection.probability >= CLEAR else None


def region_languages(regions: list[SpeechRegion], detections: dict[int, Detection], asked: Optional[str],
                     usual: Optional[str], chunk: Detection) -> list[str]:
    """A language for each region of an unclear chunk. `detections` holds the regions long enough
    to judge (by index); the others, and the unclear ones, follow their neighbours."""
    decided: dict[int, str] = {}
    for i, d in detections.items():
        if asked and d.of(asked) >= ASKED_STILL_LIKELY:
            decided[i] = asked
        elif d.probability >= CLEAR_REGION:
            decided[i] = d.language
    fallback = asked or usual or chunk.language
    out = []
    for i, region in enumerate(regions):
        if i in decided:
            out.append(decided[i])
            continue
        out.append(_nearest(regions, decided, i) or fallback)
    return out


def _nearest(regions: list[SpeechRegion], decided: dict[int, str], i: int) -> Optional[str]:
    """The language of the closest decided region, in time."""
    if not decided:
        return None
    middle = (regions[i].start + regions[i].end) / 2

    def distance(j: int) -> float:
        r = regions[j]
        return max(r.start - middle, middle - r.end, 0.0)

    return decided[min(decided, key=distance)]


def dominant(seconds: dict[str, float]) -> Optional[str]:
    return max(seconds, key=seconds.get) if seconds else None


def shares(seconds: dict[str, float]) -> list[dict]:
    """[{"language", "share"}] of the speech, most first."""
    total = sum(seconds.values())
    if total <= 0:
        return []
    return [{"language": lang, "share": round(sec / total, 3)}
            for lang, sec in sorted(seconds.items(), key=lambda kv: -kv[1])]
