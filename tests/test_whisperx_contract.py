"""The calls Hearback makes into whisperx and pyannote.audio, bound to the installed libraries'
signatures (`inspect.signature`): an upgrade that renames, moves or drops an argument fails here,
naming the call, rather than on RunPod at the first job. The arguments are built by the same
functions the backends call (`load_model_arguments`, `vad_arguments`, `_align_location`,
`from_pretrained_arguments`, `call_arguments`), so the test cannot drift from the code.

What runs for real elsewhere (tests/test_whisperx.py: load_model, the VAD, load_align_model and
align on a small wav2vec2) is checked here too: it costs nothing, and it covers the arguments that
only a baked image passes (the VAD's weights file, an alignment folder per language, a pipeline
folder).
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from pathlib import Path

import numpy as np

from test_asr_contract import ANY, binds


def _settings(tmp_path, **changes):
    from hearback.settings import Settings

    return replace(Settings.from_env(data_dir=tmp_path / "data"), **changes)


def _whisperx_site() -> Path:
    """The folder holding the whisperx package: laid out as HEARBACK_BUNDLED_MODELS_DIR expects
    (`whisperx/assets/pytorch_model.bin`), so the baked-VAD path binds against the real file."""
    import importlib.util

    return Path(list(importlib.util.find_spec("whisperx").submodule_search_locations)[0]).parent


def test_load_model_gets_what_it_accepts(tmp_path):
    from whisperx.asr import load_model

    from hearback.asr.whisperx import load_model_arguments
    from hearback.models import WhisperModelRef

    for english_only in (False, True):
        ref = WhisperModelRef("base", "/models/whisper-base", "baked", english_only)
        args, kwargs = load_model_arguments(ref, _settings(tmp_path, device="cuda", compute_type="float16"))
        bound = binds(load_model, *args, **kwargs, vad_model=ANY)
        assert bound.arguments["whisper_arch"] == "/models/whisper-base" and bound.arguments["device"] == "cuda"
        assert bound.arguments["language"] == ("en" if english_only else None)
    source = inspect.getsource(load_model)
    assert "vad_model" in source and "if vad_model is not None" in source, "load_model no longer takes our VAD"


def test_the_baked_vad_is_built_as_whisperx_builds_its_own(tmp_path):
    """`whisperx.vads.Pyannote(device, token=, model_fp=, **options)` reads `vad_onset` (and the
    pipeline `vad_offset`, `chunk_size`) from its **kwargs: built here for real from the weights."""
    from whisperx.asr import load_model
    from whisperx.vads import Pyannote

    from hearback.asr.whisperx import VAD_OPTIONS, _vad, vad_arguments

    settings = _settings(tmp_path, bundled_models_dir=str(_whisperx_site()))
    args, kwargs = vad_arguments(settings)
    binds(Pyannote, *args, **kwargs)
    assert set(VAD_OPTIONS) == {"chunk_size", "vad_onset", "vad_offset"}
    for key in VAD_OPTIONS:  # the keys WhisperX's own defaults use: a renamed one would go unread
        assert f'"{key}"' in inspect.getsource(load_model), f"load_model's VAD options no longer have {key}"
    vad = _vad(settings)
    assert isinstance(vad, Pyannote) and vad.vad_pipeline is not None  # loaded from the file, offline
    assert _vad(_settings(tmp_path)) is None  # no bundled folder: WhisperX's own copy


def test_alignment_calls(tmp_path):
    from whisperx.alignment import align, load_align_model

    from hearback.asr.whisperx import _align_location

    (tmp_path / "align" / "fr").mkdir(parents=True)
    settings = _settings(tmp_path, alignment_model_dir=str(tmp_path / "align"))
    for language in ("fr", "en"):  # a folder of its own, or the download cache filled at build time
        location = _align_location(settings, language)
        binds(load_align_model, language_code=language, device="cpu", **location)
    assert _align_location(settings, "fr")["model_name"].endswith("fr")
    # hearback/asr/whisperx.py: align(raw, model, metadata, samples, device, return_char_alignments=False)
    raw = [{"start": 0.0, "end": 1.0, "text": "a"}]
    binds(align, raw, ANY, {}, np.zeros(16000, np.float32), "cpu", return_char_alignments=False)
    assert "word_segments" in inspect.getsource(align), "align no longer returns word_segments"


def test_pyannote_pipeline_calls(tmp_path):
    from pyannote.audio import Pipeline
    from pyannote.audio.pipelines.speaker_diarization import DiarizeOutput, SpeakerDiarization
    from pyannote.core import Annotation

    from hearback.diarize.pyannote import call_arguments, from_pretrained_arguments

    settings = _settings(tmp_path, diarization_model="/models/speaker-diarization-community-1", hf_token="")
    args, kwargs = from_pretrained_arguments(settings)
    binds(Pipeline.from_pretrained, *args, **kwargs)
    for source in (tmp_path / "meeting.wav", np.zeros(16000, np.float32)):
        args, kwargs = call_arguments(source, 2, 4)
        binds(Pipeline.__call__, ANY, *args, **kwargs)  # the pipeline object, then what apply receives
        binds(SpeakerDiarization.apply, ANY, *args, **kwargs)
    assert "speaker_diarization" in {f.name for f in __import__("dataclasses").fields(DiarizeOutput)}
    binds(Annotation.itertracks, ANY, yield_label=True)
    binds(Pipeline.to, ANY, ANY)
