"""Deployment settings, read from the environment (prefix ``TONGBAN_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TONGBAN_", env_file=".env", extra="ignore")

    # An SQLite file in the working directory keeps a first run free of any server.
    database_url: str = "sqlite:///tongban.db"
    # Uploaded materials live here, named by content hash.
    data_dir: Path = Path("var")
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    # Upper bound for any single upload; a material may set a lower one.
    max_upload_mb: int = Field(default=20, ge=1, le=200)
    # Sign-in sessions end this long after sign-in (absolute) or after this long unused (idle).
    session_hours: int = Field(default=8, ge=1)
    session_idle_minutes: int = Field(default=30, ge=1)
    # A session's last use is written at most this often (a write per request would cost).
    session_touch_seconds: int = Field(default=60, ge=1)
    # Time to finish sign-in (enter the authenticator code, or set one up) after the password.
    sign_in_step_minutes: int = Field(default=10, ge=1)
    # After this many failed sign-ins in a row an account is locked, first for lock_seconds, then
    # twice as long after each further failure, up to lock_max_seconds.
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_lock_seconds: int = Field(default=60, ge=1)
    sign_in_lock_max_seconds: int = Field(default=3600, ge=1)
    # Password hashing (argon2id): passes over memory, memory in KiB, lanes. The defaults are
    # argon2-cffi's (RFC 9106's low-memory choice), above OWASP's minimum (19 MiB, 2 passes, 1
    # lane). Hashes made with other values still verify and are redone at the next sign-in.
    # Only the test suite sets these lower.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Shown in authenticator apps next to the account name.
    totp_issuer: str = "Tongban"
    # Secure cookies need HTTPS; a local demo runs on plain HTTP.
    cookie_secure: bool = False
    # Where people reach the portal; printed in QR codes on documents.
    public_url: str = "http://127.0.0.1:8000"
    # A TrueType font with Chinese glyphs for PDF documents; found among Debian's fonts if unset.
    pdf_font: Path | None = None
    # Outbox delivery: retries back off exponentially from base to max; then the message is dead.
    outbox_max_attempts: int = Field(default=10, ge=1)
    outbox_base_delay_seconds: float = Field(default=2.0, gt=0)
    outbox_max_delay_seconds: float = Field(default=3600.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    # Signed checkpoints of the audit chain (size, head hash, time), kept outside the database:
    # one at least every this many entries, and every this many seconds while the chain grows.
    audit_checkpoint_every: int = Field(default=1000, ge=1)
    audit_checkpoint_seconds: float = Field(default=60.0, gt=0)
    # The checkpoint signing key (default <data_dir>/audit/checkpoint-key.json, made on first
    # use) and the append-only file of checkpoints (default <data_dir>/audit/checkpoints.jsonl).
    # Neither may live in the database: they witness it.
    audit_checkpoint_key_file: Path | None = None
    audit_checkpoints_file: Path | None = None
    # Federation: this node's private signing key (default <data_dir>/federation/node-key.json).
    federation_key_file: Path | None = None
    # A node refuses a message whose time is further than this from its own clock.
    federation_max_age_seconds: int = Field(default=300, ge=10)
    # Message bodies larger than this are kept in the message log by content hash, not inline.
    federation_inline_body_bytes: int = Field(default=4096, ge=0)
    # How often a node fetches the registry from the national node.
    federation_refresh_seconds: float = Field(default=300.0, gt=0)
    # A session opened through the parent node's sign-on lives this long at most (then the person
    # goes through the parent again, at once if still signed in there): it bounds how long a
    # sign-out or revocation upstream leaves a session here alive.
    federation_sso_session_minutes: int = Field(default=15, ge=1)
    # The deployment's administrative division (GB/T 2260): characters 3 to 8 of the unified
    # social credit codes its registrations assign.
    region_code: str = Field(default="330100", pattern=r"^[0-9]{6}$")
    # Working-day calendar (holidays and adjusted working days) as a data file.
    calendar_file: Path | None = None
    # Service halls, their opening hours and the places per slot for bookings (预约办理); the
    # packaged demo halls if unset.
    halls_file: Path | None = None
    # Crypto suite for field encryption, signatures and the audit chain's hash: intl (AES-256-GCM,
    # SHA-256, Ed25519) or sm (SM4-GCM, SM3, SM2). Chosen once per deployment: stored data and
    # the audit chain are made with it.
    crypto_suite: Literal["intl", "sm"] = "intl"
    # Classification grades and compartments, and masking policy; the packaged files if unset.
    grades_file: Path | None = None
    masking_file: Path | None = None
    # Master keys for encryption at rest: this file, else TONGBAN_MASTER_KEYS, else a key file
    # made on first use in data_dir (fine for one machine; keep it out of backups of the data).
    master_keys_file: Path | None = None
    # Form fields labelled at this grade or above are stored encrypted.
    encrypt_from_grade: str = "important"
    # Derived data may not be written below the label of what it came from.
    no_write_down: bool = True
    # The clearance of an official nobody has given one: the lowest grade reads only public data.
    default_clearance: str = "public"

    # Notifications: e-mail is recorded ("record", development) or sent by SMTP ("smtp"); SMS
    # goes to a gateway: "record", "http" (a signed HTTP SMS API, the sms_* settings below) or
    # "package.module:factory" returning an SmsGateway.
    notify_email: Literal["record", "smtp"] = "record"
    notify_sms_gateway: str = "record"
    # The signed HTTP SMS API (notifications/sms_http.py): the platform's endpoint, the app
    # key and secret it issued, the registered template (one parameter carries the text) and
    # signature name (短信签名), and the signature algorithm it checks.
    sms_http_url: str = ""
    sms_app_key: str = ""
    sms_app_secret: str = ""
    sms_template_code: str = ""
    sms_template_param: str = "content"
    sms_sign_name: str = ""
    sms_signature: Literal["hmac-sha256", "hmac-sm3"] = "hmac-sha256"
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    # Where the recording sender writes (default: sent-messages.jsonl in data_dir).
    notify_record_file: Path | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "noreply@tongban.localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Paying fees online (payments/provider.py): unset, nothing is paid online and fees are
    # taken offline as before (a case is completed once the official has it paid); set, a case
    # completes only once its fee is paid online; "simulated" serves the
    # simulated provider's own pages under /simulated-provider/ (demo and tests only);
    # "package.module:factory" returns a real provider's adapter.
    payments_provider: str = ""
    # The secret the simulated provider signs its notifications with (default: derived from
    # the master keys); a real provider's adapter holds its own.
    payments_notification_key: str = ""
    # A payment begun this recently, still at the provider, is resumed rather than begun
    # again (two tabs must not charge twice); older ones count as abandoned.
    payments_resume_minutes: int = Field(default=15, ge=1)
    # Analytics: where the Parquet export lives (default: <data_dir>/analytics), and which source
    # the dashboard reads: "live" (the database itself, right for small deployments) or
    # "parquet" (the export, refreshed by `tongban analytics export` from cron).
    analytics_dir: Path | None = None
    analytics_source: Literal["live", "parquet"] = "live"
    # Proactive service: the rule files (the packaged examples if unset), and the share of the
    # population (persons or companies) above which a rule's run is held for an administrator
    # to confirm instead of sending (a wrong rule must not message a whole city).
    proactive_rules_dir: Path | None = None
    proactive_max_share: float = Field(default=0.01, gt=0, le=1)
    # ... but a run of at most this many offers is never held (a small town's daily births).
    proactive_guard_minimum: int = Field(default=100, ge=0)
    # Entity resolution (docs/entity-resolution.md): the engine ("duckdb" embedded, or "spark":
    # a local session, or a cluster by its master URL and Spark settings as JSON, e.g.
    # '{"spark.executor.memory": "8g", "spark.checkpoint.dir": "hdfs:///tmp/tongban"}').
    linkage_engine: Literal["duckdb", "spark"] = "duckdb"
    linkage_spark_master: str = "local[2]"
    linkage_spark_conf: dict[str, str] = Field(default_factory=dict)
    # From this many department records on, each run trains the model on them; from
    # linkage_prior_records on it keeps the shipped model's m and u but estimates the prior
    # from them; below, the shipped model is used as it is (an empty deployment starting).
    linkage_train_records: int = Field(default=10_000, ge=2)
    linkage_prior_records: int = Field(default=1_000, ge=2)

    # Shared state of several web processes (rate-limit counts); unset: kept in the process,
    # right for the embedded default (one process).
    redis_url: str | None = None
    # Prefix of the rate-limit keys in Redis (deployments sharing one Redis set their own).
    rate_limit_prefix: str = "tongban"
    # Addresses or networks of reverse proxies whose X-Forwarded-For is believed (as JSON:
    # '["10.0.0.0/8"]'); a request from any other peer is counted by the peer's address.
    trusted_proxies: list[str] = Field(default_factory=list)
    # FastAPI's own OpenTelemetry traces, metrics and logs per request, for a deployment that
    # configures OpenTelemetry providers; off, a request does not ask whether they are set up.
    opentelemetry: bool = False
    # Rate limits, in the "limits" notation ("10/minute", several joined by ";"), counted in a
    # moving window; a request over one is answered 429 with Retry-After. Per client address
    # they stay loose enough for an office or a carrier's NAT behind one address; per account
    # and per number they are tight. Sign-in (API, page, the authenticator step) costs a
    # password hash (~0.2 s of a core), so an address gets a few a minute.
    limit_sign_in_address: str = "30/minute;300/hour"
    limit_sign_in_account: str = "10/minute;60/hour"
    limit_register_address: str = "10/minute;60/hour"
    # Claiming a walk-in account (each code request texts the holder).
    limit_claim_address: str = "10/minute;60/hour"
    # Tracking: look-ups (code guesses) per address, code requests per address and per
    # application number (each sends an SMS or e-mail to the applicant, counted per application
    # number from any address).
    limit_tracking_address: str = "30/minute;300/hour"
    limit_tracking_code_address: str = "5/minute;30/hour"
    limit_tracking_code_number: str = "3/hour"
    # ... and codes sent to one applicant, whatever the number (one may have many applications).
    limit_tracking_code_recipient: str = "6/hour"
    # The OpenID Connect token endpoint: calls per address and per client_id, and failed
    # calls (a wrong secret or code) per address.
    limit_oidc_token_address: str = "120/minute"
    limit_oidc_token_client: str = "600/minute"
    limit_oidc_token_failure: str = "20/minute"
    # The exchange gateway: calls per calling system (each grant has its own calls a minute
    # too), and calls with a bad token per address.
    limit_gateway_system: str = "6000/minute"
    limit_gateway_auth_failure: str = "20/minute"
    # Refusals (401, 403, 404, a hidden field) are kept one row each as security events up to
    # this many per client address and kind; past it, as one counted row per minute, so a flood
    # costs one row update a request, not a table full of rows.
    limit_security_events: str = "30/minute"

    # `tongban worker`: seconds between runs by job name, overriding each job's own (as JSON:
    # '{"proactive-runs": 3600}'); `tongban worker --list` names the jobs.
    worker_schedule: dict[str, float] = Field(default_factory=dict)

    # Admission control, per web process: requests served at once; past it, 503 with
    # Retry-After at once instead of a queue that ends in timeouts. Anonymous requests may take
    # only (1 - admission_reserved_share) of it: the rest is kept for signed-in work (officials'
    # queues and actions). Sign-in has its own, smaller, allowance (each costs a password hash).
    max_in_flight: int = Field(default=64, ge=1)
    admission_reserved_share: float = Field(default=0.25, ge=0, lt=1)
    max_sign_in_in_flight: int = Field(default=8, ge=1)
    # A request that finds the process full waits this long at most for a slot (signed-in work
    # first), then is answered 503: a burst is smoothed, and nothing admitted has waited long.
    admission_queue_seconds: float = Field(default=0.25, ge=0)
    # ... counted from the proxy's X-Request-Start stamp (t=<seconds>), when its clock is this
    # machine's: the wait in front of the process counts too (tongban/web/admission.py).
    admission_trust_request_start: bool = False
    admission_retry_after_seconds: int = Field(default=1, ge=1)
    # Password hashes computed at once per process, and how long a sign-in waits for its turn
    # before it is answered 503 (argon2 takes ~0.1 s of a core and 64 MiB each).
    hashing_pool_size: int = Field(default=2, ge=1)
    hashing_wait_seconds: float = Field(default=0.5, ge=0)
    # ... and seconds spent hashing per second, per process: a sign-in flood takes at most
    # this share of the time (of a core, with one argon2 lane) from the other routes.
    hashing_share: float = Field(default=1.0, gt=0)
    # /metrics: answered to these addresses or networks, or to a bearer of this token.
    metrics_allowed: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    metrics_token: str | None = None
    # /readyz says not ready when more than this many outbox messages are due, or audit entries
    # wait to be sequenced (a worker is missing or behind).
    ready_max_outbox_due: int = Field(default=10_000, ge=0)
    ready_max_journal: int = Field(default=50_000, ge=0)
    # Logs as one JSON object a line (with the request id), for a log collector.
    log_json: bool = False

    @field_validator("*")
    @classmethod
    def _rate(cls, value: object, info: ValidationInfo) -> object:
        # A mistyped limit fails at start-up, not on the first request it would refuse.
        if info.field_name and info.field_name.startswith("limit_"):
            parse_many(str(value))
        return value

    @model_validator(mode="after")
    def _argon2_memory_fits_lanes(self) -> Settings:
        # argon2 needs at least 8 KiB per lane.
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise ValueError("argon2_memory_cost must be at least 8 KiB per lane (parallelism)")
        return self

    @property
    def materials_dir(self) -> Path:
        return self.data_dir / "materials"

    @property
    def generated_master_keys_file(self) -> Path:
        return self.data_dir / "master-keys.json"

    @property
    def checkpoint_key_path(self) -> Path:
        return self.audit_checkpoint_key_file or self.data_dir / "audit" / "checkpoint-key.json"

    @property
    def checkpoints_path(self) -> Path:
        return self.audit_checkpoints_file or self.data_dir / "audit" / "checkpoints.jsonl"

    @property
    def analytics_path(self) -> Path:
        return self.analytics_dir or self.data_dir / "analytics"


@lru_cache
def get_settings() -> Settings:
    return Settings()
