"""Measuring diarization against a reference: shared by the tests and the benchmarks.

Needs the `dev` extra (pyannote.metrics); nothing in the pipeline imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from hearback.decode import SAMPLE_RATE, decode
from hearback.vad import speech_regions

Turns = Iterable[tuple[float, float, str]]


def read_rttm(path: str | Path) -> list[tuple[float, float, str]]:
    turns = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, length = float(parts[3]), float(parts[4])
            turns.append((start, start + length, parts[7]))
    return turns


def diarization_error_rate(reference: Turns, hypothesis: Turns, collar: float = 0.25) -> float:
    """DER as pyannote.metrics computes it (overlap scored, `collar` seconds forgiven at edges)."""
    return diarization_errors(reference, hypothesis, collar)["diarization error rate"]


def diarization_errors(reference: Turns, hypothesis: Turns, collar: float = 0.25,
                       skip_overlap: bool = False) -> dict[str, float]:
    """DER and its parts in seconds: false alarm, missed detection, confusion, total. With
    `skip_overlap`, stretches where the reference has several speakers are not scored."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for track, (start, end, label) in enumerate(reference):
        ref[Segment(start, end), track] = label
    for track, (start, end, label) in enumerate(hypothesis):
        hyp[Segment(start, end), track] = label
    metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    uem = ref.get_timeline().extent() | hyp.get_timeline().extent() if len(hyp) else ref.get_timeline().extent()
    return {k: float(v) for k, v in metric(ref, hyp, uem=uem, detailed=True).items()}


def voices(audio_dir: Path) -> dict[str, np.ndarray]:
    """Single-speaker real speech: whole files, stereo channels, and the pyannote speakers' turns."""
    out = {name: decode(audio_dir / name).samples for name in ("jfk.flac", "hotwords.mp3")}
    # The multilingual reader reads English for 30 s, then German: GE2E hears the language switch
    # as a new voice, so the mixes use the English half and the whole file is a case of its own.
    out["reader-en"] = decode(audio_dir / "multilingual.mp3").samples[: 29 * SAMPLE_RATE]
    for side, channel in (("stereo-left", 0), ("stereo-right", 1)):
        out[side] = decode(audio_dir / "stereo_diarization.wav", channel=channel).samples
    sample = decode(audio_dir / "pyannote_sample.wav").samples
    turns = read_rttm(audio_dir / "pyannote_sample.rttm")
    for spk in ("speaker90", "speaker91"):
        others = [(s, e) for s, e, k in turns if k != spk]
        pieces = []
        for s, e, k in turns:
            if k != spk:
                continue
            # keep only the part no other speaker overlaps
            for os_, oe in others:
                if os_ < e and oe > s:
                    if os_ <= s:
                        s = max(s, oe)
                    else:
                        e = min(e, os_)
            if e - s > 0.3:
                pieces.append(sample[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)])
        out[spk] = np.concatenate(pieces)
    return out


def conversation(sources: dict[str, np.ndarray], names: list[str], seconds: float, rng) -> tuple[np.ndarray, list]:
    """A conversation of `seconds` from real clips of `names`: turns of 2-6 s, pauses of 0.2-0.8 s;
    returns the audio and the reference turns (speech regions of each piece, by speaker)."""
    parts, reference = [], []
    for piece, turns in conversation_pieces(sources, names, seconds, rng):
        parts.append(piece)
        reference += turns
    return np.concatenate(parts), reference


def write_conversation(path: Path, sources: dict[str, np.ndarray], names: list[str], seconds: float,
                       rng) -> list[tuple[float, float, str]]:
    """The same, written piece by piece to a 16-bit WAV file (hours of audio in little memory)."""
    import wave

    reference = []
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for piece, turns in conversation_pieces(sources, names, seconds, rng):
            out.writeframes((np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes())
            reference += turns
    return reference


def conversation_pieces(sources: dict[str, np.ndarray], names: list[str], seconds: float, rng):
    t = 0.0
    last = None
    while t < seconds:
        name = names[rng.integers(len(names))]
        if name == last and len(names) > 1:
            continue
        last = name
        clip = sources[name]
        length = int(rng.uniform(2.0, 6.0) * SAMPLE_RATE)
        start = int(rng.integers(0, max(1, len(clip) - length)))
        piece = clip[start:start + length]
        turns = [(t + r.start, t + r.end, name) for r in speech_regions(piece)]
        pause = np.zeros(int(rng.uniform(0.2, 0.8) * SAMPLE_RATE), np.float32)
        yield np.concatenate([piece, pause]), turns
        t += (len(piece) + len(pause)) / SAMPLE_RATE
