"""The storefront writer's processor runs enough handlers at once for a batching sink: Shift4Shop
joins concurrent product and stock writes into one PUT of up to batch_size items (issue8.md,
"Batching"), which fills only if that many handlers call it at the same time."""
from __future__ import annotations

from pathlib import Path

import pytest

from sagebridge_common import registry
from sagebridge_storefront_writer.config import StorefrontWriterSettings
from sagebridge_storefront_writer.main import build, max_in_flight

PAIRS = str(Path(__file__).resolve().parents[3] / "pairs")


class Sink:
    kind = "fake"

    def __init__(self, hint: int | None = None) -> None:
        if hint is not None:
            self.concurrency_hint = hint

    def ping(self):
        return True, "ok"


def _settings(**over) -> StorefrontWriterSettings:
    return StorefrontWriterSettings(kafka_bootstrap_servers="127.0.0.1:9", ops_port=0, pairs_path=PAIRS,
                                    pair_id="xcart-sage300", **over)


@pytest.mark.parametrize("hints, configured, expected", [
    ([None], 16, 16),                 # X-Cart: no hint, MAX_IN_FLIGHT as configured
    ([200], 16, 200),                 # a batching sink asks for two batches' worth
    ([200, None, 8], 16, 200),        # the largest hint of all pairs
    ([8], 32, 32),                    # a hint never lowers the setting
    ([], 16, 16),
])
def test_max_in_flight_is_the_setting_or_the_largest_hint(hints, configured, expected):
    sinks = {f"p{i}": Sink(h) for i, h in enumerate(hints)}
    assert max_in_flight(_settings(max_in_flight=configured), sinks) == expected


def test_the_processor_is_built_with_the_sinks_hint(monkeypatch):
    monkeypatch.setattr(registry, "build", lambda role, pair: Sink(200))
    app = build(_settings(max_in_flight=16))
    try:
        [proc] = app._processors
        assert proc.executor._max == 200
    finally:
        app.close(timeout=0.1)


def test_without_a_hint_the_processor_keeps_max_in_flight(monkeypatch):
    monkeypatch.setattr(registry, "build", lambda role, pair: Sink())
    app = build(_settings(max_in_flight=5))
    try:
        assert app._processors[0].executor._max == 5
    finally:
        app.close(timeout=0.1)
