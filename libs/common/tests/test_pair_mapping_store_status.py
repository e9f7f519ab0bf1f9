"""`mapping.order_status` (status by id, 3dcart / Shift4Shop) and `mapping.order_total_tolerance`;
payment_status / shipping_status optional so a 3dcart pair file need not list X-Cart codes."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from sagebridge_common.pair_mapping import MappingTables

MINIMAL = {"order_charges": {"shipping": {"placement": "line", "code": "FRT"}},
           "default_customer": "WEBCUST", "default_location": "1"}
XCART_PAIR = Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml"


def tables(**over) -> MappingTables:
    return MappingTables.model_validate({**MINIMAL, **over})


def test_a_3dcart_mapping_needs_no_xcart_status_codes_and_gets_the_store_definitions():
    m = tables()
    assert m.payment("P").status == "unknown" and m.payment("P").ready_for_erp is False
    assert m.shipping("S") == "unknown"
    shipped, cancelled, custom = m.store_order_status(4), m.store_order_status("5"), m.store_order_status(9)
    assert (shipped.status, shipped.ready_for_erp, shipped.fulfilment) == ("shipped", True, "shipped")
    assert (cancelled.status, cancelled.ready_for_erp) == ("cancelled", False)
    assert (custom.status, custom.ready_for_erp, custom.fulfilment) == ("unknown", False, "unknown")
    assert m.order_total_tolerance == Decimal("0.01")


def test_yaml_integer_ids_are_read_as_their_text_and_the_table_replaces_the_default():
    doc = yaml.safe_load("""
order_status:
  4: {status: shipped, ready_for_erp: true, fulfilment: shipped}
  "8": {status: awaiting_stock, ready_for_erp: true, fulfilment: backordered}
  default: {status: unknown, ready_for_erp: false, fulfilment: unknown}
order_total_tolerance: 0.05
""")
    m = tables(**doc)
    assert m.store_order_status("8").status == "awaiting_stock" and m.store_order_status(8).ready_for_erp
    assert m.store_order_status(1).status == "unknown"            # not listed: the default, not the shipped table
    assert m.order_total_tolerance == Decimal("0.05")              # the float's text, not its binary value


@pytest.mark.parametrize("table,message", [
    ({"4": {"status": "shipped", "ready_for_erp": True, "fulfilment": "shipped"}}, "needs a `default`"),
    ({"Shipped": {"status": "shipped", "ready_for_erp": True, "fulfilment": "shipped"},
      "default": {"status": "unknown", "ready_for_erp": False, "fulfilment": "unknown"}}, "map by id"),
])
def test_order_status_without_default_or_keyed_by_label_is_refused(table, message):
    with pytest.raises(ValidationError) as e:
        tables(order_status=table)
    assert message in str(e.value) and "order_status" in str(e.value)


@pytest.mark.parametrize("rule", [{"status": "new", "ready_for_erp": "true", "fulfilment": "new"},
                                  {"status": "new", "ready_for_erp": True}])
def test_a_rule_needs_a_real_boolean_and_a_fulfilment(rule):
    with pytest.raises(ValidationError):
        tables(order_status={"1": rule, "default": rule})


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ValidationError) as e:
        tables(order_total_tolerance="-0.01")
    assert "order_total_tolerance" in str(e.value)


def test_a_given_payment_status_table_still_needs_its_default():
    with pytest.raises(ValidationError) as e:
        tables(payment_status={"P": {"status": "paid", "ready_for_erp": True}})
    assert "payment_status needs a `default`" in str(e.value)


def test_the_xcart_pair_files_mapping_is_unchanged_and_valid():
    text = XCART_PAIR.read_text()
    mapping = yaml.safe_load(text)["mapping"]
    mapping["erp_customers"]["ignore_audit_users"] = ["WEBAPI"]     # the file's only ${...} in mapping
    m = MappingTables.model_validate(mapping)
    assert m.payment("P").status == "paid" and m.shipping("WND") == "will_not_deliver"
    assert "order_status" not in mapping and m.store_order_status(4).status == "shipped"
