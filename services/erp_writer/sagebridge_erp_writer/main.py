"""Entry point: `sagebridge-erp-writer`. Serves every pair under PAIRS_PATH (or PAIR_ID's), one
ERP sink per pair, built by the connector the pair file's `erp.kind` names."""
from __future__ import annotations

from sagebridge_common import registry
from sagebridge_common.app import Application, serve
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import ORDERS

from .config import ErpWriterSettings
from .handler import make_handler


def build(settings: ErpWriterSettings) -> Application:
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    sinks = {pair_id: registry.build("erp_sink", pair) for pair_id, pair in pairs.items()}
    app = Application(settings, pairs=pairs)
    for pair_id, sink in sinks.items():
        name = sink.kind if sink.kind not in app.health.readiness else f"{sink.kind}:{pair_id}"
        app.health.readiness[name] = sink.ping
    handle, on_failure = make_handler(sinks, pairs)
    app.processor([ORDERS], handle, stage="erp-write", failure_outputs=on_failure)
    return app


def main() -> None:
    serve(build, ErpWriterSettings)


if __name__ == "__main__":
    main()
