"""The version gate: newer versions are mapped, older and repeated ones dropped, per pair and entity;
the pair of each event picks its mapping; unknown storefront kinds are refused."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from sagebridge_common.errors import PermanentError
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import ORDERS, TRANSFORM_VERSIONS_CHANGELOG
from sagebridge_transform.handler import make_handler
from sagebridge_transform.main import load_served_pairs  # noqa: F401  (registers the pending connector kinds)

from .test_xcart_order import PAIRS, fresh_state, raw_event, xcart_order

SHIPPED_PAIR = Path(__file__).resolve().parents[3] / "pairs" / "xcart-sage300.yaml"
PAID = {"id": 4, "code": "P", "name": "Paid", "customer_name": "Paid"}
DECLINED = {"id": 3, "code": "D", "name": "Declined", "customer_name": "Declined"}


def dropped(reason: str, pair: str = "xcart-sage300") -> float:
    return REGISTRY.get_sample_value("sagebridge_stale_versions_dropped_total",
                                     {"pair": pair, "storefront": "xcart", "entity": "order", "reason": reason}) or 0.0


def orders(outputs) -> list[dict]:
    return [o.value for o in outputs if o.topic == ORDERS]


def test_a_mapped_version_is_recorded_in_the_changelog_of_the_event_partition():
    ev = raw_event(xcart_order(), offset=7, source_version="20241105154500-aa")
    order, changelog = make_handler(PAIRS, fresh_state())(ev)
    assert order.value["source_version"] == "20241105154500-aa"        # copied through to the canonical order
    assert (changelog.topic, changelog.key, changelog.partition, changelog.schema) == (
        TRANSFORM_VERSIONS_CHANGELOG, "xcart-sage300/xcart/order/1051", ev.partition, None)
    assert json.loads(changelog.value)["version"] == "20241105154500-aa"


def test_an_older_version_after_a_newer_one_is_dropped_and_counted():
    h = make_handler(PAIRS, fresh_state())
    newer = raw_event(xcart_order(payment_status=PAID), offset=1, source_version="20241105154600-bb")
    older = raw_event(xcart_order(payment_status=DECLINED), offset=2, source_version="20241105154500-aa")
    before = dropped("older")
    assert len(orders(h(newer))) == 1
    assert h(older) == []
    assert dropped("older") == before + 1


def test_the_same_version_again_is_a_repeat_and_a_newer_one_is_mapped():
    h = make_handler(PAIRS, fresh_state())
    before = dropped("repeat")
    assert len(orders(h(raw_event(xcart_order(), offset=1, source_version="20241105154500-aa")))) == 1
    assert h(raw_event(xcart_order(), offset=2, source_version="20241105154500-aa")) == []   # the other path's copy
    assert dropped("repeat") == before + 1
    [o] = orders(h(raw_event(xcart_order(payment_status=DECLINED), offset=3, source_version="20241105154700-cc")))
    assert o["status"] == "declined"


def test_declined_then_paid_in_the_same_second_are_both_mapped():
    """Same lastRenewDate stamp, different record hash: different versions (sorted by the hash)."""
    h = make_handler(PAIRS, fresh_state())
    [first] = orders(h(raw_event(xcart_order(payment_status=DECLINED), offset=1, source_version="20241105154500-11")))
    [second] = orders(h(raw_event(xcart_order(payment_status=PAID), offset=2, source_version="20241105154500-22")))
    assert (first["status"], second["status"]) == ("declined", "paid")


def test_within_one_second_hash_order_does_not_matter_and_a_late_copy_is_a_repeat():
    """Hashes carry no order: the paid state may hash below the declined one. Both are mapped; a
    late copy of the declined state (a poll snapshot read before the change) is then dropped."""
    h = make_handler(PAIRS, fresh_state())
    declined = raw_event(xcart_order(payment_status=DECLINED), offset=1, source_version="20241105154500-f0")
    paid = raw_event(xcart_order(payment_status=PAID), offset=2, source_version="20241105154500-0a")
    late_declined = raw_event(xcart_order(payment_status=DECLINED), offset=3, source_version="20241105154500-f0")
    assert [o["status"] for o in orders(h(declined))] == ["declined"]
    assert [o["status"] for o in orders(h(paid))] == ["paid"]
    before = dropped("repeat")
    assert h(late_declined) == []
    assert dropped("repeat") == before + 1


def test_a_redelivery_of_the_record_that_wrote_the_state_is_mapped_again():
    """Crash after the changelog was acknowledged but before the order was: the same offset comes
    back, and must still produce its order."""
    h = make_handler(PAIRS, fresh_state())
    ev = raw_event(xcart_order(), offset=5, source_version="20241105154500-aa")
    assert len(orders(h(ev))) == 1
    assert len(orders(h(ev))) == 1


def test_without_source_version_the_payload_digest_decides():
    h = make_handler(PAIRS, fresh_state())
    assert len(orders(h(raw_event(xcart_order(), offset=1)))) == 1
    assert h(raw_event(xcart_order(), offset=2)) == []                       # same payload: repeat
    changed = raw_event(xcart_order(update_date="2024-11-05T16:00:00+0000", payment_status=DECLINED), offset=3)
    assert orders(h(changed))[0]["status"] == "declined"


def test_versions_are_per_entity():
    h = make_handler(PAIRS, fresh_state())
    assert len(orders(h(raw_event(xcart_order(), offset=1, source_version="20241105154600-bb")))) == 1
    other = raw_event(xcart_order(id=2000), offset=2, source_version="20241105154500-aa", entity_id="2000")
    assert len(orders(h(other))) == 1                                       # older stamp, other order: mapped


def test_a_bad_payload_is_not_remembered_so_it_fails_again():
    h = make_handler(PAIRS, fresh_state())
    for offset in (1, 2):
        with pytest.raises(PermanentError):
            h(raw_event(xcart_order(items=[]), offset=offset, source_version="20241105154500-aa"))


SECOND_PAIR = """\
pair: xcart-eu
reference_prefix: XC2-
store_time_zone: Europe/London
currency: GBP
storefront: {kind: xcart, instance: eu, base_url: "http://127.0.0.1:1", token: "", webhook_secret: ""}
erp: {kind: sage300, base_url: "http://127.0.0.1:2", company: EUINC, user: WEBAPI, password: ""}
mapping:
  payment_status:
    P: {status: paid, ready_for_erp: false}
    default: {status: unknown, ready_for_erp: false}
  shipping_status: {default: unknown}
  order_charges: {shipping: {placement: line, code: CARR}}
  default_customer: EUWEB
  default_location: EU1
"""


def test_each_event_is_mapped_with_its_own_pair(tmp_path):
    (tmp_path / "xcart-sage300.yaml").write_text(SHIPPED_PAIR.read_text())
    (tmp_path / "xcart-eu.yaml").write_text(textwrap.dedent(SECOND_PAIR))
    pairs = load_pairs(tmp_path)
    h = make_handler(pairs, fresh_state())
    [us] = orders(h(raw_event(xcart_order(currency=None), offset=1)))
    eu_meta = {**raw_event(xcart_order()).value["metadata"], "pair_id": "xcart-eu"}
    [eu] = orders(h(raw_event(xcart_order(currency=None), offset=2, metadata=eu_meta)))
    assert (us["customer"]["erp_customer_id"], us["lines"][0]["location_code"], us["currency"]) == ("WEBCUST", "1", "USD")
    assert (eu["customer"]["erp_customer_id"], eu["lines"][0]["location_code"], eu["currency"]) == ("EUWEB", "EU1", "GBP")
    assert (us["ready_for_erp"], eu["ready_for_erp"]) == (True, False)       # the same code, each pair's table


def test_an_unknown_storefront_kind_is_a_clear_permanent_error():
    ev = raw_event(xcart_order(), storefront="magento")
    with pytest.raises(PermanentError, match="no mapping for storefront kind 'magento'") as e:
        make_handler(PAIRS, fresh_state())(ev)
    assert e.value.reason == "unsupported_storefront"


def test_an_event_of_a_pair_without_a_file_is_a_permanent_error():
    meta = {**raw_event(xcart_order()).value["metadata"], "pair_id": "nowhere"}
    with pytest.raises(PermanentError, match="nowhere") as e:
        make_handler(PAIRS, fresh_state())(raw_event(xcart_order(), metadata=meta))
    assert e.value.reason == "unknown_pair"
