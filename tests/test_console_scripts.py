"""Every service's console script refuses a wrong pair file the same way: exit code 2, the file,
line and key, no traceback (the operator edits the file, not the code)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (ROOT / "pairs" / "xcart-sage300.yaml").read_text()


@pytest.mark.parametrize("script", ["sagebridge-ingest", "sagebridge-transform", "sagebridge-erp-writer",
                                    "sagebridge-erp-cdc", "sagebridge-storefront-writer"])
@pytest.mark.parametrize("old,new,message", [
    ("  company: ${SAGE300_COMPANY:-SAMINC}", "  company: ${SAGE300_COMPANY:-SAMINC}\n  compnay: X",
     ":34: erp.compnay: unknown key"),
    ("  token: ${XCART_TOKEN:-}", "  token: ${XCART_TOKEN:-}\n  tokn: x", ":16: storefront.tokn: unknown key"),
])
def test_a_wrong_pair_file_stops_each_service_with_file_line_and_key(tmp_path, script, old, new, message):
    assert old in SHIPPED
    path = tmp_path / "pair.yaml"
    path.write_text(SHIPPED.replace(old, new))
    env = {**os.environ, "PAIRS_PATH": str(path), "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "OPS_PORT": "0"}
    done = subprocess.run([str(Path(sys.executable).with_name(script))], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{path}{message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pair_id_without_a_file_stops_the_service(tmp_path):
    env = {**os.environ, "PAIRS_PATH": str(ROOT / "pairs"), "PAIR_ID": "no-such-pair",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "OPS_PORT": "0"}
    done = subprocess.run([str(Path(sys.executable).with_name("sagebridge-erp-writer"))], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "PAIR_ID='no-such-pair' matches no pair" in done.stderr


def test_the_storefront_writer_refuses_tracking_by_module_without_its_token():
    """The other services read the same pair file without the token; only the writer needs it."""
    env = {**os.environ, "PAIRS_PATH": str(ROOT / "pairs"), "PAIR_ID": "xcart-sage300",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "OPS_PORT": "0", "XCART_MODULE_TOKEN": "",
           "XCART_TRACKING": "module"}
    done = subprocess.run([str(Path(sys.executable).with_name("sagebridge-storefront-writer"))], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "storefront.module_token is empty" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
