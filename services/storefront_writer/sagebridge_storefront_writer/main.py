"""Entry point: `sagebridge-storefront-writer`. Serves every pair under PAIRS_PATH (or PAIR_ID's), one
StorefrontSink per pair, built by the connector the pair file's `storefront.kind` names."""
from __future__ import annotations

from typing import Mapping

from sagebridge_common import registry, tracing
from sagebridge_common.app import Application, serve
from sagebridge_common.coalescer import Coalescer
from sagebridge_common.contracts import StorefrontSink
from sagebridge_common.pairs import load_pairs

from .config import StorefrontWriterSettings
from .handler import COALESCED_TOPICS, TOPICS, make_handler
from .versions import VersionGate


def max_in_flight(settings: StorefrontWriterSettings, sinks: Mapping[str, StorefrontSink]) -> int:
    """MAX_IN_FLIGHT, or more when a sink asks for it: a batching sink (Shift4Shop joins concurrent
    product and stock writes into one PUT of up to batch_size items) fills a batch only if that many
    handlers call it at once, so it states how many it can use as `concurrency_hint`."""
    hint = max((int(getattr(sink, "concurrency_hint", 0) or 0) for sink in sinks.values()), default=0)
    return max(settings.max_in_flight, hint)


def build(settings: StorefrontWriterSettings) -> Application:
    pairs = load_pairs(settings.pairs_path, settings.pair_id)
    sinks = {pair_id: registry.build("storefront_sink", pair) for pair_id, pair in pairs.items()}
    app = Application(settings, pairs=pairs)
    for pair_id, sink in sinks.items():
        name = f"store:{sink.kind}" if len(sinks) == 1 else f"store:{sink.kind}:{pair_id}"
        app.health.readiness[name] = sink.ping
    versions = VersionGate(settings, TOPICS)
    handle, on_failure = make_handler(tracing.traced(sinks), versions)
    coalescer = Coalescer(settings.coalesce_window_ms / 1000.0, settings.coalesce_max_hold_ms / 1000.0,
                          COALESCED_TOPICS)
    proc = app.processor(TOPICS, handle, stage="storefront-write", max_in_flight=max_in_flight(settings, sinks),
                         failure_outputs=on_failure, coalescer=coalescer)
    proc.partition_listeners.extend(versions.states.values())
    app.sinks, app.versions = sinks, versions          # for tests and tools
    return app


def main() -> None:
    serve(build, StorefrontWriterSettings)


if __name__ == "__main__":
    main()
