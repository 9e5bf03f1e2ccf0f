from typing import Self

from pydantic import Field, PostgresDsn, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Supavisor's transaction-mode port on hosted Supabase (session mode and direct: 5432).
SUPAVISOR_TRANSACTION_PORT = 6543


class Settings(BaseSettings):
    """Worker configuration, read from the environment (see .env.example)."""

    model_config = SettingsConfigDict(env_file=".env", env_prefix="", extra="ignore")

    database_url: PostgresDsn
    # Behind a transaction-mode pooler (Supavisor's port 6543, PgBouncer pool_mode = transaction)
    # each transaction may get another server connection: no server-side prepared statements
    # then. Unset: on when DATABASE_URL's port is 6543.
    database_transaction_pooler: bool | None = None
    queue_name: str = "jobs"
    # The outbox's queue (message_events jobs: a booking's messages to write). The worker reads
    # it in a loop of its own with WORKER_EVENT_CONCURRENCY threads, so writing a booking's
    # messages never waits behind deliveries. The same name as QUEUE_NAME: one loop for both.
    event_queue_name: str = "events"
    worker_event_concurrency: int = Field(2, gt=0)
    # Jobs per pgmq.read; deliver_message claims its messages once per read batch.
    worker_batch_size: int = Field(20, gt=0)
    # Jobs in flight at once (one thread and one database connection each).
    worker_concurrency: int = Field(10, gt=0)
    # A job read but not finished within this comes back to the queue for another reader;
    # keep it well above the slowest provider chain (providers x PROVIDER_TIMEOUT_SECONDS).
    worker_visibility_timeout_seconds: int = Field(60, gt=0)
    # A message row left in `sending` longer than this (its worker died mid-send) is taken over
    # and sent again with the same idempotency key. Keep it above twice
    # the slowest provider chain (providers x PROVIDER_TIMEOUT_SECONDS): a read batch is claimed
    # at once and a job that starts after half of it releases its claim instead of sending, so
    # a send gets at least the other half; a message whose worker died waits this long.
    worker_claim_timeout_seconds: int = Field(60, gt=0)
    # The longest a read waits for a job; also the longest a shutdown waits for that read.
    worker_poll_seconds: int = Field(2, ge=0)
    # How often a waiting read looks again (pgmq's default is 100 ms): an idle worker picks a
    # booking's event up within this, so messages follow the booking by about half of it.
    worker_poll_interval_ms: int = Field(10, ge=1, le=1000)
    # A job whose kind has no handler yet stays queued and comes back after this.
    worker_unhandled_delay_seconds: int = Field(300, ge=0)
    # Retries: attempt n waits about min(max, base * 2^(n-1)), jittered; after max attempts the job
    # is archived as failed.
    worker_max_attempts: int = Field(5, gt=0)
    worker_retry_base_seconds: float = Field(10, gt=0)
    worker_retry_max_seconds: float = 3600
    # On SIGTERM/SIGINT: how long in-flight jobs may take to finish before they are released.
    worker_shutdown_grace_seconds: float = Field(20, ge=0)
    # A pooled connection idle longer than this gets a round-trip check on checkout; one used more
    # recently is checked without one (closed, broken, or something on its socket).
    worker_pool_check_idle_seconds: float = Field(5, ge=0)
    # Extra modules to import for their @job handlers (comma-separated), e.g. for tests, benches.
    worker_imports: str = ""
    log_level: str = "INFO"
    # GET /metrics of this process (worker/metrics.py) on this port; 0: not served.
    worker_metrics_port: int = Field(0, ge=0, le=65535)
    worker_metrics_address: str = "127.0.0.1"

    # --- delivery ------------------------------------------------------------------------------
    # Provider order per channel, comma-separated. Empty: every provider whose keys are set
    # (email: resend, smtp; sms: twilio), or `console` when none is.
    email_providers: str = ""
    sms_providers: str = ""
    # Per provider call (connect and each read); on a time-out the next provider is tried at once.
    provider_timeout_seconds: float = Field(10, gt=0)
    email_from: str = "CareOps <no-reply@careops.localhost>"
    # Links in messages point here, e.g. {APP_BASE_URL}/invitations/accept?token=...
    app_base_url: str = "http://localhost:3000"
    # One-click unsubscribe (RFC 8058) on automated email that is not transactional: edge_api's
    # public URL and the secret both sign with. Either unset: no List-Unsubscribe header.
    unsubscribe_base_url: str = ""
    unsubscribe_signing_secret: str = ""

    resend_api_key: str = ""
    resend_api_url: str = "https://api.resend.com"

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    # starttls | ssl | none
    smtp_security: str = "starttls"

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_url: str = "https://api.twilio.com"

    @field_validator("database_transaction_pooler", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def retry_cap_above_base(self) -> Self:
        if self.worker_retry_max_seconds < self.worker_retry_base_seconds:
            raise ValueError("WORKER_RETRY_MAX_SECONDS must be at least WORKER_RETRY_BASE_SECONDS")
        return self

    @property
    def prepare_threshold(self) -> int | None:
        """psycopg's prepare_threshold: None (never prepare) behind a transaction pooler."""
        pooled = self.database_transaction_pooler
        if pooled is None:
            pooled = any(host.get("port") == SUPAVISOR_TRANSACTION_PORT for host in self.database_url.hosts())
        return None if pooled else 5

    def imports(self) -> list[str]:
        return [name.strip() for name in self.worker_imports.split(",") if name.strip()]
