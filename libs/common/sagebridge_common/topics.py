"""The topic catalogue: every topic Sagebridge uses, declared once, applied idempotently.

`apply()` creates what is missing and aligns the configs of what exists (incremental alter, so
settings not declared here are left alone). It never deletes. Partition counts are only reported
when they differ: growing them changes key → partition placement, so that is an operator's call.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewTopic

from .dead_letter import dlq_topic

log = logging.getLogger(__name__)

WEEK_MS = str(7 * 24 * 3600 * 1000)
MONTH_MS = str(30 * 24 * 3600 * 1000)
# An order's trace is linked from its way back (shipments, statuses) for this long, then forgotten:
# transform's memory (link_table.py, max_age_s) and the topic's retention both use it.
ORDER_TRACES_MAX_AGE_S = 30 * 24 * 3600


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 6
    configs: dict[str, str] = field(default_factory=dict)
    consumed: bool = True   # consumed topics get a dead-letter topic


STOREFRONT_RAW = "storefront.raw.v1"
ERP_RAW = "erp.raw.v1"
ORDERS = "commerce.orders.v1"
CUSTOMERS = "commerce.customers.v1"
PAYMENTS = "commerce.payments.v1"
REFUNDS = "commerce.refunds.v1"
INVENTORY = "erp.inventory.v1"
PRODUCTS = "erp.products.v1"
SHIPMENTS = "erp.shipments.v1"
ERP_CUSTOMERS = "erp.customers.v1"
ORDER_STATUS = "erp.order_status.v1"        # ERP-side order status (complete, on hold...), key: store order number
ERP_RESULTS = "erp.results.v1"
STOREFRONT_RESULTS = "storefront.results.v1"
INGEST_NOTIFICATIONS = "sagebridge.ingest.notifications.v1"
INGEST_STATE = "sagebridge.ingest.state.v1"
REDRIVE_STATE = "sagebridge.redrive.state.v1"
ERP_CDC_STATE = "sagebridge.erp_cdc.state.v1"   # change-capture cursors (source_runner), one record per table
# Keyed-state changelogs (keyed_state.py): compacted, one partition per partition of their input.
TRANSFORM_VERSIONS_CHANGELOG = "sagebridge.transform.versions.changelog.v1"   # input: STOREFRONT_RAW
ERP_WRITER_ORDERS_CHANGELOG = "sagebridge.erp_writer.orders.changelog.v1"       # input: ORDERS
TRANSFORM_ERP_CHANGELOG = "sagebridge.transform.erp.changelog.v1"                 # input: ERP_RAW
STOREFRONT_WRITER_VERSIONS_CHANGELOG = "sagebridge.storefront_writer.versions.changelog.v1"  # per written key
# Link tables (link_table.py): compacted, read whole by every instance.
ERP_WRITER_CUSTOMER_LINKS = "sagebridge.erp_writer.customer_links.v1"  # <pair>|<email_key> -> ERP customer
TRANSFORM_ORDER_TRACES = "sagebridge.transform.order_traces.v1"  # <pair>|<store order number> -> its traceparent (expires)
ERP_CDC_ROWS = "sagebridge.erp_cdc.rows.v1"    # <pair>|<table>|<row key> -> hash of the row last emitted
SOURCE_DLQ = "sagebridge.source.dlq.v1"     # changes a source runner could not fetch (no service-specific DLQ)

_RETAIN = {"retention.ms": WEEK_MS}
_COMPACT = {"cleanup.policy": "compact"}
_COMPACT_THEN_EXPIRE = {"cleanup.policy": "compact,delete", "retention.ms": str(ORDER_TRACES_MAX_AGE_S * 1000)}

BASE_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(STOREFRONT_RAW, configs=_RETAIN),
    TopicSpec(ERP_RAW, configs=_RETAIN),
    TopicSpec(ORDERS, configs=_RETAIN),
    TopicSpec(CUSTOMERS, configs=_RETAIN),
    TopicSpec(PAYMENTS, configs=_RETAIN),
    TopicSpec(REFUNDS, configs=_RETAIN),
    TopicSpec(INVENTORY, configs=_COMPACT),
    TopicSpec(PRODUCTS, configs=_COMPACT),
    TopicSpec(SHIPMENTS, configs=_RETAIN),
    TopicSpec(ERP_CUSTOMERS, configs=_COMPACT),
    TopicSpec(ORDER_STATUS, configs=_RETAIN),
    TopicSpec(ERP_RESULTS, configs=_RETAIN, consumed=False),
    TopicSpec(STOREFRONT_RESULTS, configs=_RETAIN, consumed=False),
    TopicSpec(INGEST_NOTIFICATIONS, configs=_RETAIN),
    TopicSpec(INGEST_STATE, partitions=1, configs=_COMPACT, consumed=False),
    TopicSpec(REDRIVE_STATE, partitions=1, configs=_COMPACT, consumed=False),
    TopicSpec(ERP_CDC_STATE, partitions=1, configs=_COMPACT, consumed=False),
    TopicSpec(TRANSFORM_VERSIONS_CHANGELOG, configs=_COMPACT, consumed=False),
    TopicSpec(ERP_WRITER_ORDERS_CHANGELOG, configs=_COMPACT, consumed=False),
    TopicSpec(ERP_WRITER_CUSTOMER_LINKS, configs=_COMPACT, consumed=False),
    TopicSpec(TRANSFORM_ERP_CHANGELOG, configs=_COMPACT, consumed=False),
    TopicSpec(STOREFRONT_WRITER_VERSIONS_CHANGELOG, configs=_COMPACT, consumed=False),
    TopicSpec(ERP_CDC_ROWS, configs=_COMPACT, consumed=False),
    TopicSpec(TRANSFORM_ORDER_TRACES, configs=_COMPACT_THEN_EXPIRE, consumed=False),
    TopicSpec(SOURCE_DLQ, partitions=1, configs={"retention.ms": MONTH_MS}, consumed=False),
)


def catalogue(partitions: int | None = None) -> list[TopicSpec]:
    """All topics with their DLQs; `partitions` overrides the default count (small dev brokers)."""
    specs: list[TopicSpec] = []
    for t in BASE_TOPICS:
        n = t.partitions if t.partitions == 1 or partitions is None else partitions
        specs.append(TopicSpec(t.name, n, dict(t.configs), t.consumed))
        if t.consumed:
            specs.append(TopicSpec(dlq_topic(t.name), 1 if partitions == 1 else min(n, 3),
                                   {"retention.ms": MONTH_MS}, consumed=False))
    return specs


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    configs_updated: list[str] = field(default_factory=list)
    partition_mismatch: list[str] = field(default_factory=list)


def apply(admin: AdminClient, specs: list[TopicSpec], *, replication_factor: int = 1, dry_run: bool = False,
          timeout: float = 15.0) -> ApplyReport:
    report = ApplyReport()
    existing = admin.list_topics(timeout=timeout).topics
    missing = [s for s in specs if s.name not in existing]
    for s in specs:
        if s.name in existing:
            report.existing.append(s.name)
            have = len(existing[s.name].partitions)
            if have != s.partitions:
                report.partition_mismatch.append(f"{s.name}: has {have}, catalogue says {s.partitions}")
    if missing and not dry_run:
        futures = admin.create_topics([NewTopic(s.name, s.partitions, replication_factor, config=s.configs)
                                       for s in missing], request_timeout=timeout)
        for name, fut in futures.items():
            try:
                fut.result()
            except KafkaException as e:
                if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS: a concurrent apply won the race
                    raise
    report.created = [s.name for s in missing]
    present = [s for s in specs if s.name in existing and s.configs]
    if present and not dry_run:
        resources = [ConfigResource("topic", s.name, incremental_configs=[
            ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in s.configs.items()])
            for s in present]
        for res, fut in admin.incremental_alter_configs(resources, request_timeout=timeout).items():
            fut.result()
            report.configs_updated.append(res.name)
    return report
