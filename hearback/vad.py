"""Speech regions: the Silero VAD that faster-whisper ships (ONNX, no download), joined with the
speech that segmentation-3.0 hears when it runs (`segmentation.py`).

The regions are the ground truth of what must be transcribed: they feed the ASR (grouped into
chunks of at most 30 s, Whisper's window), the coverage check after it, and the diarization
(speaker windows only where someone speaks). Silero alone missed a quarter of the speech of
far-field meetings; segmentation-3.0 alone trims word edges that Silero keeps: the union keeps both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Optional

import numpy as np

from hearback.decode import SAMPLE_RATE
from hearback.result import SpeechRegion

if TYPE_CHECKING:
    from hearback.segmentation import Activity

BLOCK_SECONDS = 600.0
MAX_REGION_SECONDS = 29.0
MIN_SILENCE_MS = 150
SPEECH_PAD_MS = 50


def speech_regions(samples: np.ndarray, offset: float = 0.0, activity: Optional["Activity"] = None) -> list[SpeechRegion]:
    """Regions of speech in `samples` (seconds, shifted by `offset`), in blocks of 10 minutes;
    with `activity` (segmentation-3.0 on the same samples), the union of both detectors."""
    regions: list[SpeechRegion] = []
    block = int(BLOCK_SECONDS * SAMPLE_RATE)
    for start in range(0, len(samples), block):
        regions = join_regions(regions, _block_regions(samples[start:start + block], offset + start / SAMPLE_RATE))
    if activity is not None:
        regions = split_long(union(regions, activity.regions()))
    return regions


def union(a: list[SpeechRegion], b: list[SpeechRegion]) -> list[SpeechRegion]:
    """Speech heard by either detector; regions closer than MIN_SILENCE_MS are one."""
    out: list[SpeechRegion] = []
    for region in sorted(a + b, key=lambda r: r.start):
        if out and region.start - out[-1].end < MIN_SILENCE_MS / 1000:
            out[-1] = SpeechRegion(out[-1].start, max(out[-1].end, region.end))
        else:
            out.append(SpeechRegion(region.start, region.end))
    return out


def split_long(regions: list[SpeechRegion], limit: float = MAX_REGION_SECONDS) -> list[SpeechRegion]:
    """Cut regions longer than `limit` into equal parts (an ASR chunk holds at most 30 s)."""
    out = []
    for r in regions:
        parts = int(np.ceil((r.end - r.start) / limit)) if r.end - r.start > limit else 1
        step = (r.end - r.start) / parts
        out += [SpeechRegion(r.start + i * step, r.start + (i + 1) * step) for i in range(parts)]
    return out


def _block_regions(block: np.ndarray, offset: float) -> list[SpeechRegion]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(block) < SAMPLE_RATE // 10:
        return []
    options = VadOptions(
        threshold=0.5,
        min_speech_duration_ms=100,
        max_speech_duration_s=MAX_REGION_SECONDS,
        min_silence_duration_ms=MIN_SILENCE_MS,
        speech_pad_ms=SPEECH_PAD_MS,
    )
    stamps = get_speech_timestamps(block, options, sampling_rate=SAMPLE_RATE)
    return [SpeechRegion(offset + s["start"] / SAMPLE_RATE, offset + s["end"] / SAMPLE_RATE) for s in stamps]


def join_regions(done: list[SpeechRegion], new: Iterable[SpeechRegion]) -> list[SpeechRegion]:
    """Append `new` regions, fusing one that starts where the previous ended (a block seam)."""
    out = list(done)
    for region in new:
        if out and region.start - out[-1].end < MIN_SILENCE_MS / 1000 and region.end - out[-1].start <= MAX_REGION_SECONDS:
            out[-1] = SpeechRegion(out[-1].start, max(out[-1].end, region.end))
        else:
            out.append(region)
    return out


def speech_seconds(regions: Iterable[SpeechRegion]) -> float:
    return float(sum(r.end - r.start for r in regions))
