"""Entry point: `sagebridge-erp-writer`. Serves every pair under PAIRS_PATH (or PAIR_ID's), one
ERP sink per pair, built by the connector the pair file's `erp.kind` names."""
from __future__ import annotations

from sagebridge_common import registry, tracing
from sagebridge_common.app import Application, serve
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.link_table import LinkTable
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import ERP_WRITER_CUSTOMER_LINKS, ERP_WRITER_ORDERS_CHANGELOG, ORDERS

from .config import ErpWriterSettings
from .handler import TOPICS, make_handler
from .pending import PendingOrders


def build(settings: ErpWriterSettings) -> Application:
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    sinks = {pair_id: registry.build("erp_sink", pair) for pair_id, pair in pairs.items()}
    app = Application(settings, pairs=pairs)
    for pair_id, sink in sinks.items():
        name = sink.kind if sink.kind not in app.health.readiness else f"{sink.kind}:{pair_id}"
        app.health.readiness[name] = sink.ping
    links = LinkTable(settings, "customer_links", ERP_WRITER_CUSTOMER_LINKS)
    app.background("customer-links", links.run, stop=links.stop)
    app.health.readiness["customer_links"] = links.ready
    order_state = KeyedState(settings, "orders", ORDERS, ERP_WRITER_ORDERS_CHANGELOG)
    pending = PendingOrders(stale_after_s=max(300.0, 10 * settings.retry_max_s))
    handle, on_failure = make_handler(tracing.traced(sinks), pairs, links=links, order_state=order_state,
                                      pending=pending)
    proc = app.processor(TOPICS, handle, stage="erp-write", failure_outputs=on_failure)
    proc.partition_listeners.extend([order_state, pending])
    app.links, app.order_state = links, order_state        # for tests and tools
    return app


def main() -> None:
    serve(build, ErpWriterSettings)


if __name__ == "__main__":
    main()
