"""Decoding real recordings in every common container, and refusing every kind of bad file."""

import os

import numpy as np
import pytest

from conftest import audio, ffmpeg
from hearback.decode import SAMPLE_RATE, decode
from hearback.errors import InputError


@pytest.mark.parametrize("name, seconds", [
    ("jfk.flac", 11.0), ("french.aiff", 2.53), ("english.wav", 2.74), ("multilingual.mp3", 59.9),
    ("hotwords.mp3", 4.0), ("stereo_diarization.wav", 5.0), ("pyannote_sample.wav", 30.0),
])
def test_shared_recordings_decode_to_16k_mono(name, seconds):
    result = decode(audio(name))
    assert result.samples.dtype == np.float32 and result.samples.ndim == 1
    assert result.sample_rate == SAMPLE_RATE
    assert abs(result.duration - seconds) < 0.1
    assert 0.05 < float(np.abs(result.samples).max()) < 2.0


@pytest.mark.parametrize("suffix, codec", [
    ("m4a", ["-c:a", "aac"]), ("opus", ["-c:a", "libopus"]), ("ogg", ["-c:a", "libvorbis"]),
    ("webm", ["-c:a", "libopus"]), ("wav", ["-ar", "44100", "-ac", "2"]),
])
def test_other_containers_decode_to_the_same_signal(tmp_path, suffix, codec):
    reference = decode(audio("jfk.flac")).samples
    path = tmp_path / f"jfk.{suffix}"
    ffmpeg("-i", str(audio("jfk.flac")), *codec, str(path))
    result = decode(path).samples
    assert abs(len(result) - len(reference)) < 0.1 * SAMPLE_RATE
    # the same speech comes out: energy envelopes agree closely
    n = min(len(result), len(reference)) // 1600 * 1600
    env = lambda x: np.sqrt((x[:n].reshape(-1, 1600) ** 2).mean(axis=1))  # noqa: E731
    assert np.corrcoef(env(result), env(reference))[0, 1] > 0.95


def test_video_file_audio_track_is_decoded(tmp_path):
    path = tmp_path / "talk.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=11", "-i", str(audio("jfk.flac")),
           "-shortest", "-c:v", "libx264", "-c:a", "aac", str(path))
    assert abs(decode(path).duration - 11.0) < 0.3


def test_stereo_is_mixed_down_and_channels_can_be_picked():
    both = decode(audio("stereo_diarization.wav")).samples
    left = decode(audio("stereo_diarization.wav"), channel=0).samples
    right = decode(audio("stereo_diarization.wav"), channel=1).samples
    assert len(both) == len(left) == len(right)
    assert not np.allclose(left, right)
    assert np.corrcoef(both, left + right)[0, 1] > 0.99


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_empty_file(tmp_path):
    with pytest.raises(InputError, match="empty"):
        decode(_write(tmp_path, "empty.wav", b""))


def test_random_bytes(tmp_path):
    with pytest.raises(InputError, match="not a readable audio"):
        decode(_write(tmp_path, "noise.mp3", os.urandom(20000)))


def test_header_only_wav(tmp_path):
    header = audio("english.wav").read_bytes()[:44]
    with pytest.raises(InputError, match="no audio could be decoded from header.wav: the file is empty or corrupt"):
        decode(_write(tmp_path, "header.wav", header))


def test_truncated_m4a(tmp_path):
    full = tmp_path / "full.m4a"
    ffmpeg("-i", str(audio("jfk.flac")), "-c:a", "aac", str(full))
    # FFmpeg notices the cut while probing (not readable) or while decoding (truncated): both say so
    with pytest.raises(InputError, match="cut.m4a (is not a readable audio or video file|is corrupt or truncated)"):
        decode(_write(tmp_path, "cut.m4a", full.read_bytes()[:3000]))


def test_file_without_audio_stream(tmp_path):
    path = tmp_path / "silent-film.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=2", "-c:v", "libx264", str(path))
    with pytest.raises(InputError, match="no audio stream"):
        decode(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        decode(tmp_path / "nope.wav")


def test_audio_shorter_than_one_second(tmp_path):
    path = tmp_path / "blip.wav"
    ffmpeg("-i", str(audio("english.wav")), "-t", "0.5", str(path))
    with pytest.raises(InputError, match="at least 1 s"):
        decode(path)


def test_audio_over_the_maximum_duration_is_refused_early():
    with pytest.raises(InputError, match="HEARBACK_MAX_DURATION"):
        decode(audio("multilingual.mp3"), max_duration=20)
