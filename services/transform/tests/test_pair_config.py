"""A mistake in the pair file stops `sagebridge-transform` at start, naming the key and the line,
instead of mapping every order wrongly (or dead-lettering them) later."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sagebridge_common.pair_file import PairFileError
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.main import build

SHIPPED = (Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml").read_text()


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The shipped pair file with one line changed; returns the file and that line's number."""
    assert SHIPPED.count(old) == 1
    text = SHIPPED.replace(old, new)
    path = tmp_path / "xcart-sage300.yaml"
    path.write_text(text)
    return path, text[:text.index(new)].count("\n") + 1


CASES = {
    "misspelled key": ("    P:  {status: paid,             ready_for_erp: true}",
                       "    P:  {status: paid,             ready_for_epr: true}",
                       "mapping.payment_status.P.ready_for_epr: unknown key"),
    "string for a boolean": ("    P:  {status: paid,             ready_for_erp: true}",
                             '    P:  {status: paid,             ready_for_erp: "false"}',
                             "mapping.payment_status.P.ready_for_erp: Input should be a valid boolean"),
    "charge line without a code": ("    handling:  {placement: line, code: HAND}",
                                   "    handling:  {placement: line}",
                                   "mapping.order_charges.handling: Value error, placement line needs a `code`"),
    "item structure without positions": ("  items:\n    rule: as_is",
                                         '  items:\n    rule: formatted\n    structure: "--"',
                                         "mapping.items: Value error, item structure '--' has no X"),
    "missing default": ("    default: unknown\n", "    NX: unknown\n",
                        "shipping_status needs a `default` entry"),
}


@pytest.mark.parametrize("case", CASES)
def test_build_refuses_a_bad_pair_file_with_key_and_line(tmp_path, case):
    old, new, message = CASES[case]
    path, line = broken(tmp_path, old, new)
    with pytest.raises(PairFileError) as e:
        build(TransformSettings(pairs_path=str(path)))
    text = str(e.value)
    assert message in text
    if case == "missing default":           # a rule across tables is reported at the `mapping:` block
        line = SHIPPED[:SHIPPED.index("\nmapping:")].count("\n") + 2
        assert f"{path}:{line}: mapping: " in text
    else:
        assert f"{path}:{line}: " in text


def test_the_console_script_exits_with_the_message_and_no_traceback(tmp_path):
    old, new, message = CASES["string for a boolean"]
    path, line = broken(tmp_path, old, new)
    script = Path(sys.executable).with_name("sagebridge-transform")
    env = {**os.environ, "PAIRS_PATH": str(path), "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{path}:{line}: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_shipped_pair_file_starts(tmp_path):
    """The same build path with the file as shipped: nothing above fails for an unrelated reason."""
    path = tmp_path / "xcart-sage300.yaml"
    path.write_text(SHIPPED)
    app = build(TransformSettings(pairs_path=str(path), kafka_bootstrap_servers="127.0.0.1:1"))
    try:
        assert set(app.pairs) == {"xcart-sage300"}
    finally:
        app.close(timeout=0.1)
