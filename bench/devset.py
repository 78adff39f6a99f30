"""Development sets built from the real voices of ../shared/audio, split into a tuning half and
a test half, and made harder than the clean clips: phone band, low-bitrate MP3 and Opus, noise,
2-8 speakers, turns of 1-10 s, language switches.

Thresholds and clustering settings are chosen on `TUNE` and reported on `TEST`; the two halves
share no clip, and most share no speaker (the prompt voices are split by prompt, so that both
halves have French, Spanish and Italian). Needs the `dev` extra and ffmpeg; nothing in the
pipeline imports it.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from bench.evaluation import read_rttm
from hearback.decode import SAMPLE_RATE, decode

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
TUNE, TEST = "tune", "test"

# (speaker, language, file relative to AUDIO, start, end or None, half)
_CLIPS = [
    *[(f"council-{n}", "en", f"voices/council/{n}_enrol.flac", 0, None, TUNE) for n in ("gonzalez", "herbold", "juarez")],
    *[(f"council-{n}", "en", f"voices/council/{n}_test.flac", 0, None, TUNE) for n in ("gonzalez", "herbold", "juarez")],
    *[(f"council-{n}", "en", f"voices/council/{n}_enrol.flac", 0, None, TEST) for n in ("lewis", "morales", "mosqueda")],
    *[(f"council-{n}", "en", f"voices/council/{n}_test.flac", 0, None, TEST) for n in ("lewis", "morales", "mosqueda")],
    ("allison", "en", "voices/prompts/allison_en_demo-congrats.flac", 0, None, TUNE),
    ("allison", "en", "voices/prompts/allison_en_demo-echotest.flac", 0, None, TUNE),
    ("allison", "es", "voices/prompts/allison_es_demo-congrats.flac", 0, None, TUNE),
    ("allison", "es", "voices/prompts/allison_es_demo-echotest.flac", 0, None, TUNE),
    ("allison", "en", "voices/prompts/allison_en_dir-intro.flac", 0, None, TEST),
    ("allison", "en", "voices/prompts/allison_en_vm-options.flac", 0, None, TEST),
    ("allison", "es", "voices/prompts/allison_es_dir-intro.flac", 0, None, TEST),
    ("allison", "es", "voices/prompts/allison_es_vm-options.flac", 0, None, TEST),
    ("armelle", "fr", "voices/prompts/armelle_fr_conf-adminmenu.flac", 0, None, TUNE),
    ("armelle", "fr", "voices/prompts/armelle_fr_vm-msginstruct.flac", 0, None, TUNE),
    ("armelle", "fr", "voices/prompts/armelle_fr_dir-intro.flac", 0, None, TEST),
    ("armelle", "fr", "voices/prompts/armelle_fr_vm-options.flac", 0, None, TEST),
    ("carlo", "it", "voices/prompts/carlo_it_demo-congrats.flac", 0, None, TUNE),
    ("carlo", "it", "voices/prompts/carlo_it_demo-echotest.flac", 0, None, TUNE),
    ("carlo", "it", "voices/prompts/carlo_it_dir-intro.flac", 0, None, TEST),
    ("carlo", "it", "voices/prompts/carlo_it_vm-options.flac", 0, None, TEST),
    ("librivox", "en", "voices/prompts/librivox_en_0870.flac", 0, None, TUNE),
    ("librivox", "en", "voices/prompts/librivox_en_0890.flac", 0, None, TUNE),
    ("librivox", "en", "voices/prompts/librivox_en_0920.flac", 0, None, TEST),
    ("librivox", "en", "voices/prompts/librivox_en_0930.flac", 0, None, TEST),
    ("jfk", "en", "jfk.flac", 0, None, TEST),
    ("hotwords", "en", "hotwords.mp3", 0, None, TEST),
    ("reader", "en", "multilingual.mp3", 0, 29.0, TEST),
    ("reader", "de", "multilingual.mp3", 31.0, None, TEST),
    ("dictee", "fr", "french.aiff", 0, None, TEST),
]
# Single-speaker stretches of the AMI-style meetings used for tuning (trn files only).
_MEETING_VOICES = ("MEE068", "MÉO069", "FEE078", "FEE083", "FEE087", "MEE094", "MEE075")


@dataclass
class Clip:
    speaker: str
    language: str
    source: str
    samples: np.ndarray
    half: str


@dataclass
class Recording:
    """An assembled recording with its reference: (start, end, speaker) turns and languages."""

    name: str
    samples: np.ndarray
    turns: list[tuple[float, float, str]]
    languages: list[tuple[float, float, str]] = field(default_factory=list)
    condition: str = "clean"

    @property
    def speakers(self) -> list[str]:
        return sorted({t[2] for t in self.turns})


@functools.lru_cache(maxsize=1)
def clips() -> tuple[Clip, ...]:
    """Every real clip of the development set, decoded to 16 kHz mono."""
    out = []
    for speaker, language, rel, start, end, half in _CLIPS:
        samples = decode(AUDIO / rel).samples
        samples = samples[int(start * SAMPLE_RATE): int(end * SAMPLE_RATE) if end else None]
        out.append(Clip(speaker, language, rel, samples, half))
    out += _pyannote_speakers()
    out += _meeting_speakers()
    return tuple(out)


def split(half: str) -> list[Clip]:
    return [c for c in clips() if c.half == half]


def _pyannote_speakers() -> list[Clip]:
    sample = decode(AUDIO / "pyannote_sample.wav").samples
    turns = read_rttm(AUDIO / "pyannote_sample.rttm")
    half = {"speaker90": TUNE, "speaker91": TEST}
    return [Clip(f"pyannote-{spk[-2:]}", "en", "pyannote_sample.wav", _alone(sample, turns, spk), half[spk])
            for spk in half]


def _meeting_speakers() -> list[Clip]:
    out = []
    rttm = read_rttm_files(AUDIO / "voices/meetings/meetings.rttm")
    for name, turns in rttm.items():
        if not name.startswith("trn"):
            continue
        samples = decode(AUDIO / f"voices/meetings/{name}.flac").samples
        for spk in sorted({t[2] for t in turns} & set(_MEETING_VOICES)):
            alone = _alone(samples, turns, spk)
            if len(alone) > 4 * SAMPLE_RATE:
                out.append(Clip(f"ami-{spk}", "en", f"voices/meetings/{name}.flac", alone, TUNE))
    return out


def read_rttm_files(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    """An RTTM holding several recordings: file id -> turns."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start = float(parts[3])
            out.setdefault(parts[1], []).append((start, start + float(parts[4]), parts[7]))
    return out


def _alone(samples: np.ndarray, turns, speaker: str) -> np.ndarray:
    """The parts of `speaker`'s turns that no other speaker overlaps, joined."""
    others = [(s, e) for s, e, k in turns if k != speaker]
    pieces = []
    for s, e, k in turns:
        if k != speaker:
            continue
        spans = [(s, e)]
        for os_, oe in others:
            spans = [piece for a, b in spans for piece in ((a, min(b, os_)), (max(a, oe), b)) if piece[1] - piece[0] > 0]
        pieces += [samples[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)] for a, b in spans if b - a > 0.3]
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


# ------------------------------------------------------------------------------ conditions

CONDITIONS = ("clean", "phone", "phone+mp3", "opus", "noise", "phone+mp3+noise")


def degrade(samples: np.ndarray, condition: str, rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """`samples` as heard through `condition` (ffmpeg for band limits and codecs)."""
    rng = rng or np.random.default_rng(0)
    out = samples
    for step in condition.split("+"):
        if step == "clean":
            continue
        if step == "phone":  # narrowband telephone: 300-3400 Hz at 8 kHz, back to 16 kHz
            out = _ffmpeg(out, ["-af", "highpass=f=300,lowpass=f=3400,aresample=8000", "-ar", "8000"], "s16le")
        elif step == "mp3":
            out = _ffmpeg(out, ["-c:a", "libmp3lame", "-b:a", "40k"], "mp3")
        elif step == "opus":
            out = _ffmpeg(out, ["-c:a", "libopus", "-b:a", "16k"], "ogg")
        elif step == "noise":
            out = add_noise(out, snr_db=float(rng.uniform(8, 15)), rng=rng)
        else:
            raise ValueError(f"unknown condition step {step!r}")
    return out.astype(np.float32)


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Pink-ish noise (white noise through a one-pole low-pass) at `snr_db` below the speech."""
    from scipy.signal import lfilter

    white = rng.standard_normal(len(samples)).astype(np.float32)
    pink = lfilter([0.03], [1.0, -0.97], white).astype(np.float32)
    speech = samples[np.abs(samples) > 1e-3]
    power = float(np.mean(speech ** 2)) if len(speech) else 1e-4
    pink *= np.sqrt(power / max(float(np.mean(pink ** 2)), 1e-12) / 10 ** (snr_db / 10))
    return samples + pink


def _ffmpeg(samples: np.ndarray, encode: list[str], container: str) -> np.ndarray:
    raw = np.clip(samples, -1, 1).astype("<f4").tobytes()
    first = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE),
                            "-ac", "1", "-i", "pipe:0", *encode, "-f", container, "pipe:1"],
                           input=raw, capture_output=True, check=True).stdout
    fmt = ["-f", "s16le", "-ar", "8000", "-ac", "1"] if container == "s16le" else []
    back = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", *fmt, "-i", "pipe:0", "-f", "f32le",
                           "-ar", str(SAMPLE_RATE), "-ac", "1", "pipe:1"],
                          input=first, capture_output=True, check=True).stdout
    out = np.frombuffer(back, "<f4").copy()
    return _fit(out, len(samples))


def _fit(samples: np.ndarray, length: int) -> np.ndarray:
    return samples[:length] if len(samples) >= length else np.pad(samples, (0, length - len(samples)))


# ------------------------------------------------------------------------------ recordings


def conversation(pool: list[Clip], speakers: list[str], seconds: float, rng: np.random.Generator,
                 turn: tuple[float, float] = (1.0, 10.0), pause: tuple[float, float] = (0.1, 0.8),
                 languages: Optional[dict[str, str]] = None, name: str = "") -> Recording:
    """A conversation of real clips: speakers take turns of `turn` seconds (never twice in a row),
    separated by pauses; the reference turns are the VAD's speech regions of each piece.
    `languages` picks which language each speaker speaks (a speaker with clips in several
    languages, like the reader, otherwise switches freely)."""
    from hearback.vad import speech_regions

    by_speaker = {s: [c for c in pool if c.speaker == s and (not languages or c.language == languages[s])
                      and len(c.samples) > SAMPLE_RATE] for s in speakers}
    parts, turns, langs = [], [], []
    t, last = 0.0, None
    order: list[str] = []
    while t < seconds:
        if not order:  # every speaker speaks once, in a new order, before anyone speaks again
            order = [str(s) for s in rng.permutation(speakers)]
            if order[0] == last and len(order) > 1:
                order[0], order[-1] = order[-1], order[0]
        speaker = order.pop(0)
        last = speaker
        clip = by_speaker[speaker][int(rng.integers(len(by_speaker[speaker])))]
        length = min(len(clip.samples), int(rng.uniform(*turn) * SAMPLE_RATE))
        start = int(rng.integers(0, max(1, len(clip.samples) - length)))
        piece = clip.samples[start:start + length]
        regions = speech_regions(piece)
        if not regions:
            continue
        turns += [(t + r.start, t + r.end, speaker) for r in regions]
        langs.append((t + regions[0].start, t + regions[-1].end, clip.language))
        gap = np.zeros(int(rng.uniform(*pause) * SAMPLE_RATE), np.float32)
        parts += [piece, gap]
        t += (len(piece) + len(gap)) / SAMPLE_RATE
    return Recording(name or "+".join(speakers), np.concatenate(parts), turns, langs)


def meetings(half: str) -> Iterator[Recording]:
    """The AMI-style meeting excerpts: trn00-09 are the tuning half, dev00/dev01 the test half."""
    rttm = read_rttm_files(AUDIO / "voices/meetings/meetings.rttm")
    names = sorted(n for n in rttm if n.startswith("trn" if half == TUNE else "dev"))
    for name in names:
        yield Recording(name, decode(AUDIO / f"voices/meetings/{name}.flac").samples, rttm[name])


def conversations(half: str, count: int, seed: int = 0) -> Iterator[Recording]:
    """`count` harder conversations of the half's voices: 2-8 speakers, turns of 1-10 s, a
    condition each (cycling through CONDITIONS), sometimes a language switch."""
    rng = np.random.default_rng(seed + (0 if half == TUNE else 1000))
    pool = split(half)
    speakers = sorted({c.speaker for c in pool})
    for i in range(count):
        k = int(min(len(speakers), 2 + i % 7))
        chosen = [str(s) for s in rng.choice(speakers, k, replace=False)]
        condition = CONDITIONS[i % len(CONDITIONS)]
        rec = conversation(pool, chosen, float(rng.uniform(30, 90)), rng, name=f"{half}-{i:02d}")
        rec.samples = degrade(rec.samples, condition, rng)
        rec.condition = condition
        yield rec


def phone_meeting(half: str, seed: int = 0, seconds: float = 29.0, leave_out: tuple[Clip, ...] = ()) -> Recording:
    """A lookalike of the meeting the issues describe: five real voices in ~5 s turns, one
    speaking French among four speaking English, phone band and 40 kb/s MP3. `leave_out`: clips
    not to use (those a voice was enrolled from)."""
    rng = np.random.default_rng(seed + (0 if half == TUNE else 1000))
    pool = [c for c in split(half) if not any(c is other for other in leave_out)]
    english = sorted({c.speaker for c in pool if c.language == "en" and c.speaker not in ("allison", "reader")})
    chosen = [str(s) for s in rng.choice(english, 4, replace=False)] + ["armelle"]
    languages = {s: "en" for s in chosen} | {"armelle": "fr"}
    rec = conversation(pool, chosen, seconds, rng, turn=(4.0, 6.0), pause=(0.2, 0.6), languages=languages,
                       name=f"phone-meeting-{half}-{seed}")
    rec.samples = degrade(rec.samples, "phone+mp3", rng)
    rec.condition = "phone+mp3"
    return rec
