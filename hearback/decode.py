"""Decode any common audio or video file to 16 kHz mono float32 with PyAV (FFmpeg).

Stereo and multichannel audio is mixed down. Decoding streams frame by frame into fixed-size
blocks, so a file's decoded size is known before it is joined and an over-long file is refused
without decoding all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from hearback.errors import InputError

SAMPLE_RATE = 16000
MIN_DURATION = 1.0


@dataclass
class Audio:
    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    sample_rate: int = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def decode(path: str | Path, max_duration: Optional[float] = None, min_duration: float = MIN_DURATION,
           channel: Optional[int] = None) -> Audio:
    """Decode `path` to 16 kHz mono float32; raise `InputError` for anything unusable.

    `channel` picks one channel of a multichannel file instead of the mix (a stereo recording
    with one person per channel).
    """
    blocks = list(iter_blocks(path, max_duration=max_duration, channel=channel))
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    duration = len(samples) / SAMPLE_RATE
    if duration < min_duration:
        raise InputError(
            f"audio is {duration:.2f} s long; at least {min_duration:g} s is needed for a transcript",
            "audio_too_short", seconds=duration, needed=min_duration,
        )
    return Audio(samples)


def declared_duration(path: str | Path) -> Optional[float]:
    """The duration the container declares, in seconds (None when it does not say)."""
    with _open(path) as container:
        return _declared_duration(container, _audio_stream(container, path))


def iter_blocks(path: str | Path, max_duration: Optional[float] = None,
                block_seconds: float = 30.0, channel: Optional[int] = None) -> Iterator[np.ndarray]:
    """Yield the decoded audio in blocks of `block_seconds` (the last one shorter).

    Raises `InputError` when the file cannot be opened, has no audio stream, decodes to nothing,
    or runs past `max_duration` seconds.
    """
    import av

    block_len = int(block_seconds * SAMPLE_RATE)
    limit = int(max_duration * SAMPLE_RATE) if max_duration else None
    with _open(path) as container:
        stream = _audio_stream(container, path)
        declared = _declared_duration(container, stream)
        if max_duration and declared and declared > max_duration + 1:
            raise _too_long(declared, max_duration)
        if channel is not None and not 0 <= channel < stream.channels:
            raise InputError(f"{Path(path).name} has {stream.channels} channel(s); channel {channel} does not exist",
                             "no_such_channel", file=Path(path).name, channels=stream.channels, channel=channel)
        layout = "mono" if channel is None else stream.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        pending: list[np.ndarray] = []
        pending_len = 0
        total = 0
        for frame in _frames(container, stream, resampler, path, channel or 0):
            pending.append(frame)
            pending_len += len(frame)
            total += len(frame)
            if limit and total > limit:
                raise _too_long(total / SAMPLE_RATE, max_duration)
            while pending_len >= block_len:
                joined = np.concatenate(pending)
                yield joined[:block_len]
                rest = joined[block_len:]
                pending, pending_len = ([rest] if len(rest) else []), len(rest)
        if total == 0:
            raise InputError(f"no audio could be decoded from {Path(path).name}: the file is empty or corrupt",
                             "undecodable", file=Path(path).name)
        if pending_len:
            yield np.concatenate(pending)


def _frames(container, stream, resampler, path, channel: int) -> Iterator[np.ndarray]:
    import av

    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield out.to_ndarray()[channel].astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray()[channel].astype(np.float32, copy=False)
    except av.error.FFmpegError as exc:
        raise InputError(f"{Path(path).name} is corrupt or truncated and could not be decoded ({_reason(exc)})",
                         "corrupt", file=Path(path).name) from None


class _open:
    """Open a container, turning FFmpeg's errors into one-line `InputError`s."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self):
        import av

        if not self.path.exists():
            raise InputError(f"audio file not found: {self.path}", "file_not_found", file=self.path.name)
        if self.path.stat().st_size == 0:
            raise InputError(f"{self.path.name} is empty (0 bytes)", "empty_file", file=self.path.name)
        try:
            self.container = av.open(str(self.path), metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            raise InputError(
                f"{self.path.name} is not a readable audio or video file ({_reason(exc)}); "
                "supported: wav, mp3, m4a/aac, opus, ogg, flac, aiff, webm, mp4 and most other FFmpeg formats",
                "not_audio", file=self.path.name,
            ) from None
        return self.container

    def __exit__(self, *exc_info) -> None:
        self.container.close()


def _audio_stream(container, path):
    if not container.streams.audio:
        raise InputError(f"{Path(path).name} has no audio stream", "no_audio_stream", file=Path(path).name)
    return container.streams.audio[0]


def _declared_duration(container, stream) -> Optional[float]:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _too_long(seconds: float, limit: float) -> InputError:
    return InputError(
        f"audio is longer than the maximum of {limit:g} s (at least {seconds:.0f} s); "
        "split the recording or raise HEARBACK_MAX_DURATION",
        "audio_too_long", seconds=seconds, limit=limit,
    )


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[0].strip() or type(exc).__name__
