"""Entry point: `sagebridge-erp-cdc` (environment variables and the pair files under PAIRS_PATH).

One source runner per pair whose `erp:` block has a `database:` block: its tables are the
runner's streams, its cursors live in ERP_CDC_STATE (one owner per pair across replicas), the
hashes of what it emitted in ERP_CDC_ROWS (read whole by every replica, so a new owner knows).
"""
from __future__ import annotations

from sagebridge_common import registry
from sagebridge_common.app import Application, serve
from sagebridge_common.pairs import load_pairs
from sagebridge_common.row_memory import RowMemory
from sagebridge_common.topics import ERP_CDC_ROWS, ERP_CDC_STATE

from .config import ErpCdcSettings
from .events import capture_outputs


def build(settings: ErpCdcSettings) -> Application:
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    app = Application(settings, pairs=pairs)
    memory = RowMemory(app, ERP_CDC_ROWS, get_wait_s=settings.cdc_memory_wait_s)
    app.background("cdc-row-memory", memory.run, stop=memory.stop)
    app.health.readiness["cdc-row-memory"] = memory.ready
    app.captures, app.cdc_runners = {}, {}     # by pair id (tests and tools look at them)
    for pid, pair in pairs.items():
        db = getattr(pair.erp, "database", None)
        if db is None:
            continue
        capture = registry.build("erp_source", pair)
        capture.memory = memory
        app.captures[pid] = capture
        app.health.readiness[f"{capture.kind}-db:{pid}"] = capture.ping
        app.cdc_runners[pid] = app.source(capture, pair_id=pid, name=f"{capture.kind}-cdc", interval_s=db.poll_interval_s,
                   page_size=db.batch_size, state_topic=ERP_CDC_STATE,
                   outputs=capture_outputs(erp=capture.kind, instance=pair.erp.company, pair_id=pid))
    return app


def main() -> None:
    serve(build, ErpCdcSettings)


if __name__ == "__main__":
    main()
