from pydantic import PostgresDsn
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Worker configuration, read from the environment (see .env.example)."""

    model_config = SettingsConfigDict(env_file=".env", env_prefix="", extra="ignore")

    database_url: PostgresDsn
    queue_name: str = "jobs"
    worker_batch_size: int = 10
    worker_visibility_timeout_seconds: int = 60
    worker_poll_seconds: int = 5
    # A job whose kind has no handler yet stays queued and comes back after this.
    worker_unhandled_delay_seconds: int = 300
