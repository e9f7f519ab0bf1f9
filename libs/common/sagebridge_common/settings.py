"""Typed configuration, read once from the environment at start-up.

Every service builds one `Settings` object (its own subclass adds the connector fields) and passes
it down; nothing else reads `os.environ`. Secrets can also come from files: point
`SAGEBRIDGE_SECRETS_DIR` at a directory (a mounted Kubernetes Secret) holding one file per variable,
named in lower case (e.g. `kafka_sasl_password`).
"""
from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _secrets_dir() -> str | None:
    d = os.environ.get("SAGEBRIDGE_SECRETS_DIR")
    return d if d and os.path.isdir(d) else None


#: SASL mechanisms librdkafka (confluent-kafka) speaks.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")


class Settings(BaseSettings):
    """Settings every service shares. Field names map to upper-case environment variables."""

    # hide_input_in_errors: a refused setting must not print the other inputs (passwords among them).
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", hide_input_in_errors=True)

    @classmethod
    def from_env(cls):
        """The one place a service reads its configuration: environment, plus secret files."""
        return cls(_secrets_dir=_secrets_dir())

    service_name: str = Field("sagebridge", description="Service name in logs, metrics, traces and the group id.")
    pair_id: str | None = Field(None, description="Serve only this pair (it must match a pair file's `pair:`); unset = every pair under PAIRS_PATH. Events of other pairs are skipped.")
    pairs_path: str = Field("pairs", description="A pair file, or a directory of pair files (*.yaml); relative to the working directory.")
    log_level: str = Field("INFO", description="Log level (JSON logs on stderr).")

    # Kafka connection
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Broker list. The dev stack starts tansu when unset.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol.")
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, ...")
    kafka_sasl_username: str | None = Field(None, description="SASL user.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (secret).")
    kafka_ssl_ca_location: str | None = Field(None, description="CA bundle for broker certificates.")
    kafka_ssl_certificate_location: str | None = Field(None, description="Client certificate (mutual TLS).")
    kafka_ssl_key_location: str | None = Field(None, description="Client key (mutual TLS).")
    kafka_ssl_key_password: SecretStr | None = Field(None, description="Client key password (secret).")
    kafka_ssl_endpoint_identification_algorithm: Literal["https", "none"] = Field(
        "https", description="Check the broker certificate's host name (https) or not (none: only for a broker reached by IP in a lab).")
    kafka_client_id: str | None = Field(None, description="client.id; default sagebridge-<service>.")
    kafka_session_timeout_ms: int = Field(6000, description="Consumer session timeout (tansu answers JoinGroup after half of it).")
    kafka_heartbeat_interval_ms: int = Field(1000, description="Consumer heartbeat; must be below the session timeout.")
    kafka_fetch_wait_max_ms: int = Field(10, description="Max fetch wait; tansu holds empty fetches this long.")
    kafka_group_id: str | None = Field(None, description="Consumer group; default sagebridge.<service>.<pair>.")
    kafka_linger_ms: float = Field(5.0, description="Producer linger: batching against per-record latency.")

    # Serialization
    schema_registry_url: str | None = Field(None, description="Use Confluent Schema Registry framing when set; else Avro single-object encoding.")
    schema_registry_username: str | None = Field(None, description="Registry basic-auth user.")
    schema_registry_password: SecretStr | None = Field(None, description="Registry basic-auth password (secret).")

    # Processor loop
    max_in_flight: int = Field(16, ge=1, description="Records handled concurrently (different keys; same key is always serial).")
    max_buffered: int = Field(1000, ge=1, description="Records held (running + waiting) before partitions pause.")
    commit_interval_ms: int = Field(200, description="How often finished offsets are committed.")
    shutdown_grace_s: float = Field(7.0, description="On SIGTERM, time allowed for in-flight records before exit.")
    retry_initial_s: float = Field(0.2, description="First backoff step for a failed record.")
    retry_max_s: float = Field(30.0, description="Backoff cap (Retry-After is honoured up to this).")
    unknown_error_max_attempts: int = Field(5, description="Attempts for unclassified errors before the DLQ.")
    record_lock_retry_budget_s: float = Field(
        600.0, ge=0, description="How long a record blocked by an ERP record lock is retried, from its first failure, before the DLQ.")
    unknown_schema_retry_budget_s: float = Field(
        900.0, ge=0, description="How long a record with an unknown schema fingerprint or registry id (a newer producer mid-upgrade) is retried before the DLQ.")
    liveness_stall_s: float = Field(300.0, description="/healthz fails when commits stop this long while records are held.")

    # Ops HTTP server (/metrics, /healthz, /readyz)
    ops_host: str = Field("0.0.0.0", description="Bind address of the ops server.")
    ops_port: int = Field(9400, description="Port of /metrics, /healthz, /readyz.")
    trace_url_template: str | None = Field(None, description="Address of a trace in your trace viewer, with {trace_id} (e.g. https://tempo.example/trace/{trace_id}); `sagebridge dlq list` and `dlq show` then print each record's trace link (its kept `traceparent`).")

    @model_validator(mode="after")
    def _kafka_security_is_complete(self):
        """Refuse at start a SASL setting that would only fail at the first broker connection (the agent
        profile's broker is across the internet: a typo there shows as an endless reconnect loop)."""
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            mechanism = (self.kafka_sasl_mechanism or "").upper()
            if mechanism not in SASL_MECHANISMS:
                raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_MECHANISM, one of "
                                 f"{', '.join(SASL_MECHANISMS)} (got {self.kafka_sasl_mechanism!r})")
            if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") and not (
                    self.kafka_sasl_username and self.kafka_sasl_password and self.kafka_sasl_password.get_secret_value()):
                raise ValueError(f"KAFKA_SASL_MECHANISM={mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
            if protocol == "SASL_PLAINTEXT" and mechanism == "PLAIN":
                raise ValueError("SASL PLAIN over SASL_PLAINTEXT sends the password in clear: use SASL_SSL")
        elif self.kafka_sasl_mechanism or self.kafka_sasl_username:
            raise ValueError(f"KAFKA_SASL_* is set but KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL "
                             "(SASL_SSL, or SASL_PLAINTEXT)")
        return self

    @property
    def group_id(self) -> str:
        """One group per service (and per pair when PAIR_ID pins one), so replicas share the work."""
        suffix = f".{self.pair_id}" if self.pair_id else ""
        return self.kafka_group_id or f"sagebridge.{self.service_name}{suffix}"
