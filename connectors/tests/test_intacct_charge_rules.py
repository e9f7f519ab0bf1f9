"""§7 of issue 9: libs' OrderCharges accepts header charges and long charge codes (Intacct takes a
subtotal for any charge and long item ids); the xcart-sage300 pair still refuses both at start,
in the Sage 300 sink, with the old messages."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.intacct.sink import IntacctSink
from sagebridge_connectors.sage300.sink import Sage300Sink

from .test_intacct_gateway import make_pair as intacct_pair

SAGE300_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"


@pytest.fixture(autouse=True)
def clean_faults():
    """No Sage 300 simulator needed: the refusal comes before any call."""
    yield


def sage300_pair(tmp_path, **charges):
    data = yaml.safe_load(SAGE300_PAIR.read_text())
    data["storefront"] = {"kind": "xcart", "base_url": "http://127.0.0.1:9"}
    data["erp"] = {"kind": "sage300", "base_url": "http://127.0.0.1:9", "company": "SAMINC", "user": "WEBAPI",
                   "password": "pw", "timeout_s": 5}
    data["mapping"]["order_charges"] = {**data["mapping"]["order_charges"], **charges}
    path = tmp_path / f"pair-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_pair_file(path)


def test_sage300_refuses_a_header_shipping_charge_at_start(tmp_path):
    pair = sage300_pair(tmp_path, shipping={"placement": "header"})         # the pair file loads
    with pytest.raises(PermanentError) as e:
        Sage300Sink(pair)
    assert e.value.reason == "sage300_charge_placement"
    assert "shipping: placement header is only for `discount`" in str(e.value)


def test_sage300_refuses_a_seven_character_code_at_start(tmp_path):
    pair = sage300_pair(tmp_path, handling={"placement": "line", "code": "HANDLNG"})
    with pytest.raises(PermanentError) as e:
        Sage300Sink(pair)
    assert e.value.reason == "sage300_charge_code_too_long" and "'HANDLNG'" in str(e.value)


def test_sage300_still_starts_with_the_shipped_rules(tmp_path):
    Sage300Sink(sage300_pair(tmp_path)).close()


def test_intacct_pair_loads_header_charges_and_long_item_ids(tmp_path):
    intacct_pair(tmp_path)                                         # the shipped file, erp pointed at a fake
    path = sorted(tmp_path.iterdir())[-1]
    data = yaml.safe_load(path.read_text())
    data["mapping"]["order_charges"].update(shipping={"placement": "header"},
                                            handling={"placement": "line", "code": "HANDLING-CHARGE"})
    path.write_text(yaml.safe_dump(data))
    pair = load_pair_file(path)
    assert pair.mapping.order_charges.shipping.placement == "header"
    assert pair.mapping.order_charges.rule("handling").code == "HANDLING-CHARGE"
    IntacctSink(pair).close()                                      # no start check refuses them
