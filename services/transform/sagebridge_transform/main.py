"""Entry point: `sagebridge-transform`."""
from __future__ import annotations

from sagebridge_common.app import Application, serve
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.link_table import LinkTable
from sagebridge_common.pairs import PairConfig, load_pairs
from sagebridge_common.topics import (ERP_RAW, ORDER_TRACES_MAX_AGE_S, STOREFRONT_RAW, TRANSFORM_ERP_CHANGELOG,
                                     TRANSFORM_ORDER_TRACES, TRANSFORM_VERSIONS_CHANGELOG)

from .config import TransformSettings
from .handler import make_handler
from .order_traces import OrderTraces


def load_served_pairs(settings: TransformSettings) -> dict[str, PairConfig]:
    """The validated pair files: a wrong key, type or missing value stops the service here."""
    return load_pairs(settings.pairs_path, settings.pair_id)


def build(settings: TransformSettings) -> Application:
    pairs = load_served_pairs(settings)
    app = Application(settings, pairs=pairs)
    versions = KeyedState(settings, "versions", STOREFRONT_RAW, TRANSFORM_VERSIONS_CHANGELOG)
    erp_rows = KeyedState(settings, "erp", ERP_RAW, TRANSFORM_ERP_CHANGELOG)
    traces = LinkTable(settings, "order_traces", TRANSFORM_ORDER_TRACES, max_age_s=ORDER_TRACES_MAX_AGE_S)
    app.background("order-traces", traces.run, stop=traces.stop)     # not a readiness condition: links are best effort
    proc = app.processor([STOREFRONT_RAW, ERP_RAW], make_handler(pairs, versions, erp_rows, OrderTraces(traces)),
                         stage="transform")
    proc.partition_listeners += [versions, erp_rows]   # each restored before its partitions' records, dropped on revoke
    return app


def main() -> None:
    serve(build, TransformSettings)


if __name__ == "__main__":
    main()
