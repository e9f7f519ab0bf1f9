"""Pairs for the writer's handler tests. The handlers run against fake sinks (fakes.py), so the erp
block points nowhere; the Sage 300 sink's own tests, against the simulator, are in connectors/tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sagebridge_common.pairs import PairConfig, load_pair_file

SHIPPED_PAIR = Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml"


@pytest.fixture
def make_pair(tmp_path):
    """The shipped pair file with its mapping, under another prefix if asked."""
    def make(prefix: str = "XC1-", zone: str = "America/New_York") -> PairConfig:
        data = yaml.safe_load(SHIPPED_PAIR.read_text())
        data.update(reference_prefix=prefix, store_time_zone=zone)
        data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
        data["erp"] = {"kind": "sage300", "base_url": "http://127.0.0.1:9", "company": "SAMINC", "user": "WEBAPI"}
        path = tmp_path / f"pair-{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(data))
        return load_pair_file(path)
    return make
