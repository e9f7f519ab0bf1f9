"""Prometheus metrics shared by every service (prefix `sagebridge_`, base units, bounded labels).

Labels are service, topic, reason, connector, operation, outcome, storefront, status and pair: never an
order id or SKU, so cardinality stays bounded however much traffic flows.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

EVENTS_CONSUMED = Counter("sagebridge_events_consumed_total", "Records read from Kafka", ["service", "topic"])
EVENTS_PRODUCED = Counter("sagebridge_events_produced_total", "Records acknowledged by the broker", ["service", "topic"])
PROCESSING_SECONDS = Histogram("sagebridge_processing_duration_seconds", "Handler time per record, retries included",
                               ["service", "topic"], buckets=_LATENCY_BUCKETS)
END_TO_END_SECONDS = Histogram("sagebridge_end_to_end_latency_seconds", "Source event time to processed",
                               ["service", "topic"], buckets=_LATENCY_BUCKETS)
DLQ_RECORDS = Counter("sagebridge_dlq_records_total", "Records sent to a dead-letter topic", ["service", "topic", "reason"])
RETRIES = Counter("sagebridge_retries_total", "Handler retries", ["service", "topic", "kind"])
CONSUMER_LAG = Gauge("sagebridge_consumer_lag_messages", "Fetch high watermark minus committed offset",
                     ["service", "topic", "partition"])
IN_FLIGHT = Gauge("sagebridge_inflight_records", "Records received and not yet committable", ["service"])
RECORDS_DROPPED = Counter("sagebridge_records_dropped_total",
                          "Records fetched for a partition no longer owned here (its new owner reads them)",
                          ["service", "topic"])
PAUSED = Gauge("sagebridge_partitions_paused", "Partitions paused for backpressure", ["service"])
COMMITS = Counter("sagebridge_offset_commits_total", "Offset commits", ["service", "outcome"])
REBALANCES = Counter("sagebridge_rebalances_total", "Consumer group rebalance callbacks (event: assigned|revoked)",
                   ["service", "event"])
CONNECTOR_REQUESTS = Counter("sagebridge_connector_requests_total", "Calls to external systems",
                             ["connector", "operation", "outcome"])
CONNECTOR_SECONDS = Histogram("sagebridge_connector_request_duration_seconds", "External call duration",
                              ["connector", "operation"], buckets=_LATENCY_BUCKETS)
WEBHOOK_REQUESTS = Counter("sagebridge_webhook_requests_total", "Webhook deliveries by answer",
                           ["storefront", "status"])
ERP_TOTAL_MISMATCH = Counter("sagebridge_erp_total_mismatch_total",
                             "ERP documents created whose total differs from the storefront's", ["connector", "pair"])
ERP_NEEDS_ATTENTION = Counter("sagebridge_erp_needs_attention_total",
                              "Orders changed in the store after their ERP document was written (change: status|total|lines)",
                              ["connector", "pair", "change"])
SOURCE_RECORDS = Counter("sagebridge_source_records_total", "Changes a source runner delivered or dead-lettered",
                         ["service", "source", "outcome"])
SOURCE_CYCLE_FAILURES = Counter("sagebridge_source_cycle_failures_total",
                                "Source polls that failed as a whole (source down), retried with backoff",
                                ["service", "source"])
# Sage Intacct bills API transactions per month (intacct.md §5): one per function the gateway answered.
INTACCT_API_TRANSACTIONS = Counter("sagebridge_intacct_api_transactions_total",
                                   "Intacct functions sent and answered (success or failure)",
                                   ["pair", "function", "purpose"])
INTACCT_RELOGINS = Counter("sagebridge_intacct_relogins_total",
                           "New getAPISession after the gateway refused a session (XL03000006)", ["pair"])
# The merchant's question "is every order in the ERP?" as a number erp_writer can answer at any
# scrape: the age of the oldest order it has taken in and not yet written (0 when none waits).
# Set per pair by sagebridge_erp_writer.pending (a function evaluated at scrape time).
ERP_OLDEST_UNWRITTEN_ORDER_AGE = Gauge("sagebridge_erp_oldest_unwritten_order_age_seconds",
                                       "Age (since the order reached commerce.orders.v1) of the oldest order "
                                       "erp_writer is still trying to write; 0 when none waits",
                                       ["connector", "pair"])
ERP_UNWRITTEN_ORDERS = Gauge("sagebridge_erp_unwritten_orders", "Orders erp_writer took in and has not written yet",
                             ["connector", "pair"])
