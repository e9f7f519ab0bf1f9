"""Typed configuration, read once from the environment at start-up.

Every service builds one `Settings` object (its own subclass adds the connector fields) and passes
it down; nothing else reads `os.environ`. Secrets can also come from files: point
`SAGEBRIDGE_SECRETS_DIR` at a directory (a mounted Kubernetes Secret) holding one file per variable,
named in lower case (e.g. `kafka_sasl_password`).
"""
from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _secrets_dir() -> str | None:
    d = os.environ.get("SAGEBRIDGE_SECRETS_DIR")
    return d if d and os.path.isdir(d) else None


class Settings(BaseSettings):
    """Settings every service shares. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    @classmethod
    def from_env(cls):
        """The one place a service reads its configuration: environment, plus secret files."""
        return cls(_secrets_dir=_secrets_dir())

    service_name: str = "sagebridge"
    pair_id: str = Field("xcart-sage300", description="integration pair this instance serves")
    log_level: str = "INFO"

    # Kafka connection
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = None
    kafka_ssl_certificate_location: str | None = None
    kafka_ssl_key_location: str | None = None
    kafka_ssl_key_password: SecretStr | None = None
    kafka_client_id: str | None = None
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_fetch_wait_max_ms: int = 10
    kafka_group_id: str | None = None

    # Serialization
    schema_registry_url: str | None = None
    schema_registry_username: str | None = None
    schema_registry_password: SecretStr | None = None

    # Processor loop
    max_in_flight: int = Field(16, ge=1, description="records processed concurrently (different keys)")
    max_buffered: int = Field(1000, ge=1, description="records held before partitions are paused")
    commit_interval_ms: int = 200
    shutdown_grace_s: float = 7.0
    retry_initial_s: float = 0.2
    retry_max_s: float = 30.0
    unknown_error_max_attempts: int = 5
    replay_count_limit: int = 3
    liveness_stall_s: float = 300.0

    # Ops HTTP server (/metrics, /healthz, /readyz)
    ops_host: str = "0.0.0.0"
    ops_port: int = 9400

    @property
    def group_id(self) -> str:
        return self.kafka_group_id or f"sagebridge.{self.service_name}.{self.pair_id}"
