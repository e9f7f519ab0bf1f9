"""mapping: blocks for the ERP -> store direction: defaults keep old pair files valid, system-only
X-Cart status codes are refused at load time."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from sagebridge_common.pair_mapping import MappingTables

BASE = {"payment_status": {"default": {"status": "unknown", "ready_for_erp": False}},
        "shipping_status": {"default": "unknown"}, "order_charges": {"shipping": {"placement": "line", "code": "FRT"}},
        "default_customer": "WEBCUST", "default_location": "1"}


def test_defaults_when_the_blocks_are_absent():
    m = MappingTables(**BASE)
    assert m.inventory.locations == {"1": "default"} and m.inventory.combine == "sum"
    assert m.prices.price_list == "WEB" and m.prices.price_type == "base"
    assert m.catalogue.disable_when_not_on_web is True
    assert m.store_status_codes("complete").shipping_status == "S"
    assert m.store_status_codes("on_hold").shipping_status is None
    assert m.erp_customers.update_store is True


@pytest.mark.parametrize("codes", [{"payment_status": "A"}, {"payment_status": "D"},
                                   {"shipping_status": "WFA"}, {"shipping_status": "NBA"}])
def test_system_only_store_codes_are_refused(codes):
    with pytest.raises(ValidationError, match="system only"):
        MappingTables(**BASE, erp_order_status={"complete": codes})


def test_unknown_erp_status_is_refused():
    with pytest.raises(ValidationError, match="unknown ERP status"):
        MappingTables(**BASE, erp_order_status={"compelte": {"shipping_status": "S"}})


def test_echo_users_compare_trimmed_and_case_blind():
    m = MappingTables(**BASE, erp_customers={"ignore_audit_users": ["webapi"]})
    assert m.erp_customers.is_echo("WEBAPI  ") and not m.erp_customers.is_echo("ADMIN") and not m.erp_customers.is_echo(None)


def test_a_store_order_status_id_maps_from_an_erp_status():
    """The 3dcart pair file's table (issue8.md): one status id per ERP status, nothing for open."""
    table = {"shipped": {"order_status": "4"}, "complete": {"order_status": "4"},
             "partially_shipped": {"order_status": "3"}, "on_hold": {"order_status": "6"}, "open": {}}
    m = MappingTables(**BASE, erp_order_status=table)
    assert m.store_status_codes("partially_shipped").order_status == "3"
    assert m.store_status_codes("open").order_status is None
    assert m.store_status_codes("complete").shipping_status is None      # the X-Cart default table is replaced
    assert repr(m.store_status_codes("on_hold")) == "{'order_status': '6'}"
    assert MappingTables(**BASE).store_status_codes("shipped").order_status is None


@pytest.mark.parametrize("value, message", [("", "at least 1"), ("Shipped", "status id"), ("４", "status id"),
                                            (" 4", "status id")])
def test_an_order_status_that_is_no_status_id_is_refused(value, message):
    with pytest.raises(ValidationError, match=message):
        MappingTables(**BASE, erp_order_status={"shipped": {"order_status": value}})
