"""One settings object, read once by `bootstrap` (environment variables `STRONGROOM_*`).

No other module reads the environment; everything else receives a `Settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_CALLER_APIKEY_LENGTH = 32  # spec §4.1: caller-chosen API key values are at least 32 characters


class Settings(BaseSettings):
    # `__` splits a nested name: STRONGROOM_LIMITS__POLICIES_PER_ACCOUNT=100 is limits[...].
    model_config = SettingsConfigDict(
        env_prefix="STRONGROOM_", extra="ignore", env_nested_delimiter="__"
    )

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".strongroom")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data dir"
    )
    root_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; default: the file root.key in the data dir"
    )
    root_key_file: Path | None = None

    # First start of an empty database: the account and its owner.
    bootstrap_apikey: SecretStr | None = None
    account_name: str = "strongroom"
    owner_email: str = "owner@example.com"

    # Tokens (spec §3.3; reliability.md §4): access tokens live 900-3600 s, refresh tokens <= 72 h.
    public_url: str | None = Field(default=None, description="base URL clients use; sets `iss`")
    access_token_ttl: int = Field(default=3600, ge=900, le=3600)
    refresh_token_ttl: int = Field(default=259_200, ge=900, le=259_200)
    signing_key_rotation_days: int = Field(default=90, ge=1)
    clock_skew_seconds: int = Field(default=30, ge=0, le=30)

    # Trusted compute-resource token issuers for the cr-token grant (docs/user-guide.md): a JSON
    # file {"<iss>": {"jwks": {...}} | {"public_key_pem": "..."}}; unset: the grant is refused.
    cr_token_issuers: Path | None = None

    # Key management (docs/user-guide.md, "Key Protect policies"): how often `strongroom serve`
    # rotates root keys whose rotation policy is due, deactivates expired keys and purges keys
    # deleted 90 days ago (0: never; run it on one node of several); the `private_endpoint_port`
    # `GET /api/v2/instance/allowed_ip_port` reports (default: `port`, the one port strongroom
    # serves every API on).
    kms_sweep_seconds: int = Field(default=60, ge=0)
    kms_private_endpoint_port: int | None = Field(default=None, ge=1, le=65535)

    # Several nodes on one PostgreSQL database (docs/deployment.md). `strong`: every decision
    # reads the account's stored access revision (one indexed read), so a check after an
    # acknowledged change on any node sees it. `cached`: a node learns of changes made through
    # another by LISTEN/NOTIFY, within `max_staleness` seconds at worst (its revision check).
    # On one node both are exact: a node's own writes invalidate its cache.
    consistency: Literal["strong", "cached"] = "cached"
    max_staleness: float = Field(default=1.0, gt=0, le=60)
    # The most accounts whose compiled policies a node keeps (least recently used go first).
    policy_cache_accounts: int = Field(default=4096, ge=1)

    # Account limits (limits.yaml, docs/user-guide.md "Limits"; reliability.md C7): IBM's
    # values unless overridden here by name, e.g. {"policies_per_account": 100}.
    limits: dict[str, int] = Field(default_factory=dict)

    # Abuse resistance (reliability.md T4, §4; docs/user-guide.md, "Rate limits and lockout").
    # Token-bucket rates, per node: the token endpoint and API key checks per source address
    # (IPv6: per /64), and every use of one API key; past them a 429 with Retry-After.
    rate_limit_per_source: float = Field(default=10.0, gt=0)
    rate_limit_per_apikey: float = Field(default=10.0, gt=0)
    # Lockout after failed API key checks, per identity and source, shared through the database:
    # `lockout_failures` within `lockout_window_seconds` lock for `lockout_wait_seconds`,
    # doubling with each lockout up to `lockout_max_wait_seconds`; forgotten after
    # `lockout_reset_seconds` without a failure (Keycloak's 60 s, 900 s, 12 h).
    lockout_failures: int = Field(default=10, ge=1)
    lockout_window_seconds: int = Field(default=300, ge=1)
    lockout_wait_seconds: int = Field(default=60, ge=1)
    lockout_max_wait_seconds: int = Field(default=900, ge=1)
    lockout_reset_seconds: int = Field(default=43_200, ge=1)

    # The audit trail (docs/user-guide.md, "Audit trail"; reliability.md A3 b): true, a mutation
    # or key operation whose event cannot be stored fails with 503 and changes nothing; false,
    # it goes ahead and the lost event is logged.
    audit_fail_closed: bool = True
    # A second sink (A3 b; audit/sinks.py): every event also appended as one JSON line to this
    # file and fsynced before the call is answered. With it, a call goes ahead while either the
    # database or the file takes its event.
    audit_file: Path | None = None
    # Unauthenticated 401s from one source for one action within this many seconds are written
    # as the first event and one event counting the rest (audit/coalesce.py); 0: each written.
    audit_denial_window_seconds: float = Field(default=60.0, ge=0, le=3600)

    max_body_bytes: int = 1024 * 1024
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    log_level: str = "info"

    @field_validator("bootstrap_apikey")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_CALLER_APIKEY_LENGTH:
            raise ValueError(
                "STRONGROOM_BOOTSTRAP_APIKEY must be at least"
                f" {MIN_CALLER_APIKEY_LENGTH} characters"
            )
        return value

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'strongroom.db').resolve()}"

    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def resolved_root_key_file(self) -> Path:
        return self.root_key_file or self.data_dir / "root.key"
