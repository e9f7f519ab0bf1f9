"""The README is the operator's manual: its configuration table must match the code, and its first
commands must be the ones CI runs."""
from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented_with_its_default():
    rows = runpy.run_path(str(ROOT / "scripts" / "config_table.py"))["rows"]()
    assert len(rows) > 40
    for name, _scope, default, _meaning in rows:
        assert re.search(rf"\| `{name}` \|[^|]*\|\s*`?{re.escape(default)}`?\s*\|", README), f"{name} missing or stale"


def test_first_commands_are_up_and_test_and_ci_runs_the_test_command():
    blocks = re.findall(r"^    (scripts/\S+)", README, flags=re.M)
    assert blocks[:2] == ["scripts/up.sh", "scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_pair_file_key_is_documented_with_its_default():
    rows = runpy.run_path(str(ROOT / "scripts" / "config_table.py"))["pair_rows"]()
    assert {key for key, *_ in rows} >= {"pair", "reference_prefix", "storefront.base_url", "erp.settle_delay_s",
                                         "mapping.order_charges.shipping.code"}
    for key, kind, default, _meaning in rows:
        shown = re.escape(f"`{default}`" if default and default != "required" else default)
        assert re.search(rf"\| `{re.escape(key)}` \| {re.escape(kind)} \| {shown} \|", README), f"{key} missing or stale"


def test_the_shipped_pair_files_load():
    """With none of their variables set (secrets are refused by the connectors' factories, not here)."""
    from sagebridge_common.pairs import load_pairs
    assert set(load_pairs(ROOT / "pairs")) == {"xcart-sage300", "3dcart-sage300", "3dcartsoap-sage300", "xcart-intacct",
                                                "xcart-sagepro"}
