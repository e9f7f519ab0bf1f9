"""Sagebridge's Grafana dashboards as code (Grafana Foundation SDK). `scripts/dashboards.py`
exports each to deploy/grafana/dashboards/sagebridge/<file>, which Grafana's file provider loads."""
from __future__ import annotations

import json
from typing import Callable

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as gdm

from . import erp_to_store, overview, runtime, store_to_erp

# exported file name -> builder
DASHBOARDS: dict[str, Callable[[], gdm.Dashboard]] = {
    "overview.json": overview.build,
    "store-to-erp.json": store_to_erp.build,
    "erp-to-store.json": erp_to_store.build,
    "runtime.json": runtime.build,
}


def render(build: Callable[[], gdm.Dashboard]) -> str:
    """The provisioning JSON of one dashboard, stable (sorted keys) so the export diffs cleanly."""
    return json.dumps(build(), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
