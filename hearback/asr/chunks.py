"""What the decoder hears in one 30 s Whisper window: a chunk of speech.

A chunk is one stretch of the recording (consecutive speech regions with their pauses, as WhisperX
and faster-whisper's batched pipeline decode them), or pieces of speech joined end to end with a
short silence between them. Joined chunks let the decoder hear one voice at a time: 30 s of a
meeting of short turns hold four or five voices, often in two languages, so such a stretch has no
clear language and each of its turns had to be judged and decoded on its own, an encoder pass
each. One voice's turns joined are in one language, named from the encoder pass that decodes them.
Times go back to the recording with `Chunk.to_recording`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Sequence

import numpy as np

from hearback.decode import SAMPLE_RATE
from hearback.result import Segment, SpeechRegion, Word

CHUNK_SECONDS = 30.0  # Whisper's window
JOIN_SILENCE = 0.3  # seconds of silence between joined pieces: a pause, not a new recording


@dataclass(frozen=True)
class Chunk:
    """`parts`: the stretches of the recording heard, in the order they are heard (one for a stretch)."""

    parts: tuple[SpeechRegion, ...]

    @classmethod
    def stretch(cls, region: SpeechRegion) -> "Chunk":
        return cls((region,))

    @property
    def start(self) -> float:
        return min(p.start for p in self.parts)

    @property
    def end(self) -> float:
        return max(p.end for p in self.parts)

    @property
    def speech(self) -> float:
        """Seconds of the recording heard (pauses inside a stretch included)."""
        return sum(p.end - p.start for p in self.parts)

    @cached_property
    def _layout(self) -> list[tuple[int, int]]:
        """(first sample, samples) of each part in the chunk's own audio."""
        out, at, gap = [], 0, int(JOIN_SILENCE * SAMPLE_RATE)
        for i, p in enumerate(self.parts):
            at += gap if i else 0
            size = max(0, int(p.end * SAMPLE_RATE) - int(p.start * SAMPLE_RATE))
            out.append((at, size))
            at += size
        return out

    @property
    def seconds(self) -> float:
        """Length of the chunk's own audio."""
        first, size = self._layout[-1]
        return (first + size) / SAMPLE_RATE

    def audio(self, samples: np.ndarray) -> np.ndarray:
        """The chunk's audio cut from `samples` (which start at time 0 of the parts)."""
        if len(self.parts) == 1:
            return _cut(samples, self.parts[0])
        gap = np.zeros(int(JOIN_SILENCE * SAMPLE_RATE), np.float32)
        pieces: list[np.ndarray] = []
        for i, p in enumerate(self.parts):
            pieces += [gap, _cut(samples, p)] if i else [_cut(samples, p)]
        return np.concatenate(pieces)

    def part_at(self, seconds: float) -> int:
        """Index of the part heard at `seconds` of the chunk's audio (the nearest one in a joining silence)."""
        starts = [first / SAMPLE_RATE for first, _ in self._layout]
        i = max(0, int(np.searchsorted(starts, seconds, side="right")) - 1)
        if i + 1 < len(starts):
            end_i = starts[i] + self._layout[i][1] / SAMPLE_RATE
            if seconds - end_i > starts[i + 1] - seconds:
                i += 1
        return i

    def to_recording(self, seconds: float, part: int) -> float:
        """`seconds` of the chunk's audio as time in the recording, kept inside part `part`."""
        first, size = self._layout[part]
        p = self.parts[part]
        inside = seconds - first / SAMPLE_RATE
        if len(self.parts) > 1:
            inside = min(max(inside, 0.0), size / SAMPLE_RATE)
        return p.start + inside

    def segments_in_recording(self, segment: Segment) -> list[Segment]:
        """A segment decoded from this chunk, in recording time. A joined chunk's segment is cut
        where two parts meet, so that no segment spans another voice's turn between them."""
        if len(self.parts) == 1:
            return [segment.shifted(self.parts[0].start)]
        if not segment.words:
            part = self.part_at(segment.start)
            return [replace(segment, start=self.to_recording(segment.start, part),
                            end=self.to_recording(segment.end, part))]
        by_part: dict[int, list[Word]] = {}
        for w in segment.words:
            part = self.part_at((w.start + w.end) / 2)
            by_part.setdefault(part, []).append(
                replace(w, start=self.to_recording(w.start, part), end=self.to_recording(w.end, part)))
        return [replace(segment, start=words[0].start, end=words[-1].end,
                        text="".join(w.word for w in words).strip() if len(by_part) > 1 else segment.text,
                        words=words)
                for _, words in sorted(by_part.items())]


def stretches(regions: Sequence[SpeechRegion], max_seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """Consecutive speech regions grouped into stretches of the recording of up to `max_seconds`."""
    spans: list[SpeechRegion] = []
    for region in regions:
        if spans and region.end - spans[-1].start <= max_seconds:
            spans[-1] = SpeechRegion(spans[-1].start, region.end)
        else:
            spans.append(SpeechRegion(region.start, min(region.end, region.start + max_seconds)))
    return [Chunk.stretch(s) for s in spans]


def joined(pieces: Sequence[SpeechRegion], max_seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """`pieces`, in the order given, joined into chunks of up to `max_seconds` of audio; a piece
    longer than that is cut."""
    out: list[list[SpeechRegion]] = []
    length = 0.0
    for piece in _at_most(pieces, max_seconds):
        span = piece.end - piece.start
        if out and length + JOIN_SILENCE + span <= max_seconds:
            out[-1].append(piece)
            length += JOIN_SILENCE + span
        else:
            out.append([piece])
            length = span
    return [Chunk(tuple(parts)) for parts in out]


def by_voice(pieces: Sequence[SpeechRegion], voices: Sequence[int],
             max_seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """Each voice's speech joined into chunks, voice after voice in order of first appearance. A
    voice's consecutive pieces (no other voice between them) stay one stretch, pauses included:
    only another voice's turn is taken out."""
    return [chunk for _, chunk in voice_chunks(pieces, voices, max_seconds)]


def voice_chunks(pieces: Sequence[SpeechRegion], voices: Sequence[int],
                 max_seconds: float = CHUNK_SECONDS) -> list[tuple[int, Chunk]]:
    """`by_voice`'s chunks, each with its voice."""
    ordered = sorted(zip(pieces, voices), key=lambda pv: pv[0].start)
    runs: list[tuple[SpeechRegion, int]] = []
    for piece, voice in ordered:
        if runs and runs[-1][1] == voice and piece.end - runs[-1][0].start <= max_seconds:
            runs[-1] = (SpeechRegion(runs[-1][0].start, piece.end), voice)
        else:
            runs.append((piece, voice))
    return [(voice, chunk) for voice in dict.fromkeys(voices)
            for chunk in joined([run for run, v in runs if v == voice], max_seconds)]


def packed(chunks: Sequence[Chunk], max_seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """The parts of `chunks`, in order, joined into as few windows as they fill."""
    return joined([part for chunk in chunks for part in chunk.parts], max_seconds)


def _at_most(pieces: Sequence[SpeechRegion], max_seconds: float) -> list[SpeechRegion]:
    out = []
    for p in pieces:
        start = p.start
        while p.end - start > max_seconds:
            out.append(SpeechRegion(start, start + max_seconds))
            start += max_seconds
        out.append(SpeechRegion(start, p.end))
    return out


def _cut(samples: np.ndarray, region: SpeechRegion) -> np.ndarray:
    return samples[int(region.start * SAMPLE_RATE):int(region.end * SAMPLE_RATE)]
