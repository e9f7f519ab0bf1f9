"""confluent-kafka client configuration built from Settings.

Only this module turns settings into librdkafka properties, so security options (SSL, SASL) and the
tansu-friendly timings are set the same way for every consumer, producer and admin client.
"""
from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from .settings import Settings


def _common(settings: Settings) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        "client.id": settings.kafka_client_id or f"sagebridge-{settings.service_name}",
    }
    if settings.kafka_sasl_mechanism:
        conf["sasl.mechanism"] = settings.kafka_sasl_mechanism
    if settings.kafka_sasl_username:
        conf["sasl.username"] = settings.kafka_sasl_username
    if settings.kafka_sasl_password:
        conf["sasl.password"] = settings.kafka_sasl_password.get_secret_value()
    for key, value in (("ssl.ca.location", settings.kafka_ssl_ca_location),
                       ("ssl.certificate.location", settings.kafka_ssl_certificate_location),
                       ("ssl.key.location", settings.kafka_ssl_key_location)):
        if value:
            conf[key] = value
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        conf["ssl.endpoint.identification.algorithm"] = settings.kafka_ssl_endpoint_identification_algorithm
    if settings.kafka_ssl_key_password:
        conf["ssl.key.password"] = settings.kafka_ssl_key_password.get_secret_value()
    return conf


def producer_config(settings: Settings) -> dict[str, Any]:
    """acks=all with idempotence: a delivery report means the broker has the record for good."""
    return {**_common(settings), "acks": "all", "enable.idempotence": True, "linger.ms": settings.kafka_linger_ms,
            "message.timeout.ms": 60000}


def consumer_config(settings: Settings, group_id: str | None = None) -> dict[str, Any]:
    """Offsets are committed by the processor only; the timings suit tansu and real Kafka alike."""
    return {
        **_common(settings),
        "group.id": group_id or settings.group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": settings.kafka_session_timeout_ms,
        "heartbeat.interval.ms": settings.kafka_heartbeat_interval_ms,
        "fetch.wait.max.ms": settings.kafka_fetch_wait_max_ms,
        "statistics.interval.ms": 5000,
        # a service started before `sagebridge topics apply` picks its topics up within 10 s,
        # not at librdkafka's default 5-minute metadata refresh
        "topic.metadata.refresh.interval.ms": 10000,
    }


def make_producer(settings: Settings) -> Producer:
    return Producer(producer_config(settings))


def make_consumer(settings: Settings, group_id: str | None = None, **callbacks: Any) -> Consumer:
    return Consumer({**consumer_config(settings, group_id), **callbacks})


def make_admin(settings: Settings) -> AdminClient:
    return AdminClient(_common(settings))
