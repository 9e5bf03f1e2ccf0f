from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, PostgresDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Supavisor's transaction-mode port on hosted Supabase (session mode and direct: 5432).
SUPAVISOR_TRANSACTION_PORT = 6543
# The secret every `supabase start` signs with; dev tokens refuse any other.
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105 (public)


# What a browser on the developer's machine sends as Origin: a dev server on any port
# (Next.js 3000, Vite 5173 and 4173, Angular 4200, Studio 54323, ...), by name or address.
LOCAL_ORIGINS = r"http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"


class Settings(BaseSettings):
    """edge_api configuration, read from the environment (see .env.example)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: PostgresDsn
    # Behind a transaction-mode pooler (Supavisor's port 6543, PgBouncer pool_mode = transaction)
    # each transaction may get another server connection: no server-side prepared statements
    # then. Unset: on when DATABASE_URL's port is 6543.
    database_transaction_pooler: bool | None = None
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    # How long a request waits for a pooled connection before answering 503.
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # Longest a request's SQL may run (as the `authenticated` role's 8 s under PostgREST);
    # a request that hits it answers 503 unavailable.
    db_statement_timeout_ms: int = Field(default=8000, ge=1)

    # development | test | production: production refuses dev tokens.
    environment: Literal["development", "test", "production"] = "development"

    # Supabase's legacy JWT secret (HS256). Unset or empty: HS256 tokens are refused.
    supabase_jwt_secret: SecretStr | None = None
    # The project's JWKS (ES256/RS256 signing keys), e.g.
    # https://<ref>.supabase.co/auth/v1/.well-known/jwks.json. Unset: asymmetric tokens are refused.
    supabase_jwks_url: AnyHttpUrl | None = None
    # When set, the token's `iss` must equal it (https://<ref>.supabase.co/auth/v1).
    supabase_jwt_issuer: str | None = None
    jwt_audience: str = "authenticated"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=300)
    # The fetched key set is reused this long; an unknown `kid` refetches it at most
    # once per cooldown (signing-key rotation without a restart, no hammering).
    jwks_cache_seconds: float = Field(default=300, gt=0)
    jwks_refresh_cooldown_seconds: float = Field(default=10, ge=0)
    jwks_timeout_seconds: float = Field(default=5, gt=0)

    # Frontend origins allowed by CORS, comma-separated (https://app.example.com). Required in
    # production. Unset in development: any http origin on this machine (LOCAL_ORIGINS); unset
    # in test: no CORS headers.
    cors_allowed_origins: Annotated[list[str], NoDecode] = []

    # GET /dashboard/stats answers with a workspace's dashboard computed at most this many
    # seconds ago by this process (0: computed on every request); membership is checked on
    # every request. At most dashboard_cache_entries dashboards (workspace and view) are kept.
    dashboard_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    dashboard_cache_entries: int = Field(default=1000, ge=1)

    # Database metrics are read at most once per this many seconds per process.
    metrics_cache_seconds: float = Field(default=5.0, ge=0)
    # The database metrics query gives up after this long (the scrape still answers).
    metrics_statement_timeout_ms: int = Field(default=2000, ge=1)
    # When set, GET /metrics needs `Authorization: Bearer <this>`.
    metrics_bearer_token: SecretStr | None = None

    # Inbound webhooks (unset: that endpoint is not served).
    # Twilio's auth token verifies X-Twilio-Signature on /webhooks/twilio/sms.
    twilio_auth_token: SecretStr | None = None
    # The Svix signing secret of the Resend webhook (whsec_...) for /webhooks/resend.
    resend_webhook_secret: SecretStr | None = None
    # The public base URL providers call (https://api.example.com) when edge_api runs behind a
    # proxy: Twilio signs the URL it called. Unset: the request's own URL.
    webhook_public_base_url: AnyHttpUrl | None = None
    # Verifies one-click unsubscribe links (the worker signs them with the same secret).
    # Unset: POST /email/unsubscribe is not served.
    unsubscribe_signing_secret: SecretStr | None = None

    @field_validator(
        "supabase_jwt_secret",
        "metrics_bearer_token",
        "twilio_auth_token",
        "resend_webhook_secret",
        "unsubscribe_signing_secret",
        "webhook_public_base_url",
        "supabase_jwks_url",
        "supabase_jwt_issuer",
        "database_transaction_pooler",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def prepare_threshold(self) -> int | None:
        """psycopg's prepare_threshold: None (never prepare) behind a transaction pooler."""
        pooled = self.database_transaction_pooler
        if pooled is None:
            pooled = any(host.get("port") == SUPAVISOR_TRANSACTION_PORT for host in self.database_url.hosts())
        return None if pooled else 5

    @property
    def cors_origin_pattern(self) -> str | None:
        """The origins allowed besides the listed ones: local ones in development when none are listed."""
        if self.environment == "development" and not self.cors_allowed_origins:
            return LOCAL_ORIGINS
        return None

    @model_validator(mode="after")
    def _explicit_origins_in_production(self) -> "Settings":
        if self.environment == "production":
            if not self.cors_allowed_origins:
                raise ValueError(
                    "set CORS_ALLOWED_ORIGINS to the frontend's origins (comma-separated) in production"
                )
            if "*" in self.cors_allowed_origins:
                raise ValueError("CORS_ALLOWED_ORIGINS lists origins in production, not *")
        return self

    @model_validator(mode="after")
    def _metrics_private_in_production(self) -> "Settings":
        # /metrics carries platform-wide business figures: never public in production.
        if self.environment == "production" and self.metrics_bearer_token is None:
            raise ValueError("ENVIRONMENT=production needs METRICS_BEARER_TOKEN: /metrics is never public")
        return self

    @model_validator(mode="after")
    def _some_way_to_verify_tokens(self) -> "Settings":
        if self.supabase_jwt_secret is None and self.supabase_jwks_url is None:
            raise ValueError("set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL (or both) to verify user tokens")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
