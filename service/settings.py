"""The service's one settings object: every setting of the library (`hearback.settings`) and the
service's own (database, keys and logins, voiceprints, S3, webhooks, RunPod, retention), read from
the environment the same way. The CLI, the service and the tests build this one; the pipeline and
the RunPod worker need only the library's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hearback.settings import Settings as LibrarySettings, markdown_table, setting


@dataclass(frozen=True)
class Settings(LibrarySettings):
    database_url: str = setting(
        "DATABASE_URL", "", "SQLAlchemy URL of the speaker database (default: SQLite file in HEARBACK_DATA_DIR); "
        "PostgreSQL as `postgresql+psycopg://user@host/db`.")
    workspace: str = setting("HEARBACK_WORKSPACE", "default", "Workspace whose speakers the CLI and service use.")
    api_key: str = setting("HEARBACK_API_KEY", "", "Key every API request must send (`X-API-Key`), or a named key (`hearback keys`): this "
                           "one holds every scope; empty: the service refuses to start unless HEARBACK_INSECURE_NO_AUTH=1.")
    insecure_no_auth: bool = setting("HEARBACK_INSECURE_NO_AUTH", False, "Run the service without an API key (local tests only).")
    min_enrol_seconds: float = setting(
        "HEARBACK_MIN_ENROL_SECONDS", 3.0,
        "Least speech an enrolment sample must hold (seconds); under 10 s the enrolment is accepted with a "
        "`short_sample` warning.")
    keep_enrolment_audio: bool = setting(
        "HEARBACK_KEEP_ENROLMENT_AUDIO", True,
        "Keep each enrolment's audio (16 kHz WAV under HEARBACK_DATA_DIR/voices, or in the bucket with "
        "HEARBACK_UPLOAD_STORAGE=s3) so that voiceprints can be re-embedded after a model change; erasing a "
        "speaker deletes it.")
    reembed_on_start: bool = setting(
        "HEARBACK_REEMBED_ON_START", False,
        "On service start, recompute every voiceprint of another embedder from its kept audio "
        "(`hearback speakers reembed`).")
    enrich: bool = setting(
        "HEARBACK_ENRICH", False,
        "Add a voiceprint to a consenting speaker from a cluster identified with a large margin (see README for "
        "the guard against drift). Off by default: strangers heard the way such a session was heard then take "
        "names more often (bench/enrichment_eval.py).")
    enrich_margin: float = setting(
        "HEARBACK_ENRICH_MARGIN", 0.05,
        "Enrichment: how far above the identification threshold the cluster must score against the speaker's "
        "person-provided voiceprints, and by how much it must beat the runner-up speaker.")
    enrich_min_seconds: float = setting(
        "HEARBACK_ENRICH_MIN_SECONDS", 10.0, "Enrichment: least speech the cluster must hold (seconds).")
    enrich_max: int = setting(
        "HEARBACK_ENRICH_MAX", 5, "Enrichment: most automatic voiceprints per speaker (the oldest is replaced).")
    session_retention_days: float = setting(
        "HEARBACK_SESSION_RETENTION_DAYS", 0.0,
        "Sessions (transcripts, summaries) and their audio older than this many days are purged, each purge "
        "written to the audit log; 0: kept for ever.")
    runpod_endpoint_id: str = setting("RUNPOD_ENDPOINT_ID", "", "Send the service's transcription jobs to this RunPod endpoint.")
    runpod_api_key: str = setting("RUNPOD_API_KEY", "", "API key of that RunPod account.")
    public_url: str = setting("HEARBACK_PUBLIC_URL", "",
                              "Base URL clients reach the service at (behind a proxy), for links in webhooks.")
    webhook_secret: str = setting("HEARBACK_WEBHOOK_SECRET", "", "Secret that signs webhook bodies (HMAC-SHA256).")
    webhook_attempts: int = setting("HEARBACK_WEBHOOK_ATTEMPTS", 5, "Tries per webhook before giving up.")
    webhook_backoff: float = setting("HEARBACK_WEBHOOK_BACKOFF", 2.0, "First retry delay in seconds (doubles each time).")
    webhook_timeout: float = setting("HEARBACK_WEBHOOK_TIMEOUT", 10.0, "Seconds to wait for a webhook receiver.")
    webhook_allowlist: tuple[str, ...] = setting(
        "HEARBACK_WEBHOOK_ALLOWLIST", (),
        "Comma-separated hosts or CIDR ranges a job's webhook_url may point at; empty: any, private ones included.")
    audio_retention_hours: float = setting(
        "HEARBACK_AUDIO_RETENTION_HOURS", 0.0,
        "Hours a job's audio (upload or S3 object) is kept after the job for playback; 0: deleted when it ends.")
    s3_endpoint_url: str = setting("HEARBACK_S3_ENDPOINT_URL", "", "S3-compatible endpoint (MinIO, R2); empty: AWS.")
    s3_bucket: str = setting("HEARBACK_S3_BUCKET", "", "Bucket for temporary audio; empty: no S3 storage.")
    s3_access_key_id: str = setting("HEARBACK_S3_ACCESS_KEY_ID", "", "Access key of the bucket.")
    s3_secret_access_key: str = setting("HEARBACK_S3_SECRET_ACCESS_KEY", "", "Secret key of the bucket.")
    s3_region: str = setting("HEARBACK_S3_REGION", "us-east-1", "Region of the bucket (`auto` for R2).")
    s3_prefix: str = setting("HEARBACK_S3_PREFIX", "hearback/uploads", "Key prefix of uploaded audio.")
    upload_expiry: int = setting("HEARBACK_UPLOAD_EXPIRY", 900, "Seconds a presigned upload form stays valid.")
    worker_url_expiry: int = setting("HEARBACK_WORKER_URL_EXPIRY", 3600,
                                     "Seconds a presigned GET URL handed to a RunPod worker stays valid.")
    upload_storage: str = setting(
        "HEARBACK_UPLOAD_STORAGE", "local",
        "Where uploaded audio waits for its job: `local` (HEARBACK_DATA_DIR/uploads, replicas on one machine) or "
        "`s3` (the bucket: replicas on several machines).")
    job_lease_seconds: float = setting(
        "HEARBACK_JOB_LEASE_SECONDS", 30.0,
        "PostgreSQL: seconds a replica may go without a heartbeat before its running job is given to another one.")
    login_hours: float = setting("HEARBACK_LOGIN_HOURS", 12.0, "Hours a web login lasts (logging out ends it at once).")
    login_attempts: int = setting(
        "HEARBACK_LOGIN_ATTEMPTS", 5,
        "Wrong keys (web logins and X-API-Key on any route) allowed per client address and minute, after which it "
        "gets a 429 until the minute is over.")
    trusted_proxies: str = setting(
        "HEARBACK_TRUSTED_PROXIES", "127.0.0.1",
        "Comma-separated addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-Proto and X-Forwarded-For "
        "are believed (https behind a proxy gives the login cookie its Secure flag); the client is the right-most "
        "address of X-Forwarded-For that is not a trusted proxy; `*` trusts every client.")
    max_enrol_seconds: float = setting(
        "HEARBACK_MAX_ENROL_SECONDS", 600.0, "Longest enrolment sample (seconds): a longer one is refused while it decodes.")

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir) / 'hearback.db'}"


if __name__ == "__main__":
    print(markdown_table(Settings))
