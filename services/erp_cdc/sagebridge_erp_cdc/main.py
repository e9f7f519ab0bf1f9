"""Entry point: `sagebridge-erp-cdc` (environment variables and the pair files under PAIRS_PATH).

One source runner per pair whose `erp:` block has a capture block: Sage 300's `database:` (its
tables are the runner's streams) or Intacct's `change_capture:` (its objects are). Both blocks
have `poll_interval_s` and `batch_size`; a capture may stretch the interval (`min_poll_interval_s`,
Intacct's transaction budget). The cursors live in ERP_CDC_STATE (one owner per pair across
replicas), the hashes of what a table capture emitted in ERP_CDC_ROWS (read whole by every
replica, so a new owner knows; a capture that needs none ignores it). The erp.raw.v1 records'
`source_instance` is the ERP company (Sage 300 `company`, Intacct `company_id`).
"""
from __future__ import annotations

from sagebridge_common import registry
from sagebridge_common.app import Application, serve
from sagebridge_common.pairs import load_pairs
from sagebridge_common.row_memory import RowMemory
from sagebridge_common.topics import ERP_CDC_ROWS, ERP_CDC_STATE

from .config import ErpCdcSettings
from .events import capture_outputs

CAPTURE_BLOCKS = ("database", "change_capture")      # sage300, intacct
READINESS = {"sage300": "db", "sagepro": "db"}                        # readiness name per kind; others "api"


def capture_block(erp):
    """The `erp:` block's change capture settings (poll_interval_s, batch_size), None: no capture."""
    for name in CAPTURE_BLOCKS:
        block = getattr(erp, name, None)
        if block is not None:
            return block
    return None


def instance_of(erp) -> str:
    return getattr(erp, "company", None) or getattr(erp, "company_id", None) or erp.kind


def build(settings: ErpCdcSettings) -> Application:
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    app = Application(settings, pairs=pairs)
    memory = RowMemory(app, ERP_CDC_ROWS, get_wait_s=settings.cdc_memory_wait_s)
    app.background("cdc-row-memory", memory.run, stop=memory.stop)
    app.health.readiness["cdc-row-memory"] = memory.ready
    app.captures, app.cdc_runners = {}, {}     # by pair id (tests and tools look at them)
    for pid, pair in pairs.items():
        block = capture_block(pair.erp)
        if block is None:
            continue
        capture = registry.build("erp_source", pair)
        capture.memory = memory
        app.captures[pid] = capture
        app.health.readiness[f"{capture.kind}-{READINESS.get(capture.kind, 'api')}:{pid}"] = capture.ping
        interval = max(block.poll_interval_s, getattr(capture, "min_poll_interval_s", 0.0))
        app.cdc_runners[pid] = app.source(capture, pair_id=pid, name=f"{capture.kind}-cdc", interval_s=interval,
                   page_size=block.batch_size, state_topic=ERP_CDC_STATE,
                   outputs=capture_outputs(erp=capture.kind, instance=instance_of(pair.erp), pair_id=pid))
    return app


def main() -> None:
    serve(build, ErpCdcSettings)


if __name__ == "__main__":
    main()
