"""The reconciliation comparison, category by category, and its report (JSON, gauges)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from prometheus_client.parser import text_string_to_metric_families

from sagebridge_common.contracts import ErpDocument, ErpReceipt, StoreDocument, StorePayment
from sagebridge_common.reconcile import compare
from sagebridge_common.reconcile_report import as_json, metrics_registry, publish

P = "XC1-"
AT = datetime(2026, 11, 5, 12, 0, tzinfo=timezone.utc)


def store(number: str, total: str = "30.00", *, ready: bool = True, status: str = "paid",
          payments: tuple[tuple[str, str], ...] | None = None) -> StoreDocument:
    pays = None if payments is None else tuple(StorePayment(t, Decimal(a)) for t, a in payments)
    return StoreDocument(f"id{number}", number, AT, Decimal(total), "USD", status, ready, pays)


def erp(number: str, total: str = "30.00", doc: str | None = None) -> ErpDocument:
    return ErpDocument(doc or f"ORD{number}", f"{P}{number}", Decimal(total), "WEBCUST")


def only_gap(rec):
    assert len(rec.gaps) == 1, rec.gaps
    return rec.gaps[0]


def test_one_erp_order_with_the_same_total_is_matched_and_clean():
    rec = compare([store("1001"), store("1002", "10.00")], [erp("1001"), erp("1002", "10.005")], P)
    assert rec.counts["matched"] == 2 and rec.clean
    assert rec.store_orders == 2 and rec.erp_orders == 2


def test_a_ready_order_absent_from_the_erp_is_missing():
    gap = only_gap(compare([store("1001"), store("1002")], [erp("1001")], P))
    assert (gap.result, gap.reference, gap.order_id, gap.erp_documents) == ("missing_in_erp", "XC1-1002", "id1002", ())


def test_two_erp_orders_with_one_reference_are_duplicated_whatever_the_store_status():
    rec = compare([store("1001"), store("1002", ready=False, status="cancelled")],
                  [erp("1001", doc="A"), erp("1001", doc="B"), erp("1002", doc="C"), erp("1002", doc="D")], P)
    assert rec.counts["duplicated"] == 2 and rec.counts["matched"] == 0
    assert [g.erp_documents for g in rec.gaps] == [("A", "B"), ("C", "D")]


def test_totals_differing_by_more_than_a_cent_are_a_mismatch():
    gap = only_gap(compare([store("1001", "30.00")], [erp("1001", "30.02")], P))
    assert (gap.result, gap.store_total, gap.erp_totals) == ("total_mismatch", "30.00", ("30.02",))
    assert compare([store("1001", "30.00")], [erp("1001", "30.01")], P).clean


def test_a_cancelled_order_in_the_erp_needs_attention_and_one_not_there_is_not_exported():
    rec = compare([store("1001", ready=False, status="cancelled"), store("1002", ready=False, status="refunded")],
                  [erp("1001")], P)
    gap = only_gap(rec)
    assert (gap.result, gap.reference, gap.status) == ("needs_attention", "XC1-1001", "cancelled")
    assert rec.counts["not_exported"] == 1


def test_an_erp_order_in_the_windows_numbering_without_a_store_order_needs_attention():
    rec = compare([store("998"), store("1001")], [erp("998"), erp("999"), erp("1001"), erp("1002"), erp("17")], P)
    gap = only_gap(rec)    # 1002 and 17 are outside 998..1001: other windows' orders
    assert (gap.result, gap.reference, gap.order_id, gap.erp_documents) == ("needs_attention", "XC1-999", None,
                                                                            ("ORD999",))


def test_receipts_missing_duplicated_mismatched_and_matched():
    orders = [store("1001", payments=(("t1", "30.00"),)),
              store("1002", payments=(("t2", "20.00"), ("b3", "10.00"))),
              store("1003", payments=(("t4", "30.00"),))]
    receipts = [ErpReceipt("1", "XC1-1001-Pt1", Decimal("30.00")),
                ErpReceipt("2", "XC1-1002-Pt2", Decimal("20.00")), ErpReceipt("3", "XC1-1002-Pt2", Decimal("20.00")),
                ErpReceipt("4", "XC1-1003-Pt4", Decimal("29.00"))]
    rec = compare(orders, [erp("1001"), erp("1002"), erp("1003")], P, receipts=receipts)
    assert {(g.result, g.transaction_id) for g in rec.gaps} == {
        ("receipt_duplicated", "t2"), ("receipt_missing", "b3"), ("receipt_amount_mismatch", "t4")}
    assert rec.counts["receipts_matched"] == 1 and rec.counts["matched"] == 3


def test_without_receipts_payments_are_not_counted():
    rec = compare([store("1001", payments=(("t1", "30.00"),))], [erp("1001")], P)
    assert "receipts_matched" not in rec.all_counts() and rec.clean


def test_the_json_has_every_count_and_the_gaps_with_ids():
    rec = compare([store("1001"), store("1002")], [erp("1001"), erp("1001", doc="X")], P)
    doc = as_json(rec, pair="p", start=AT, end=AT, calls={"store": {"list_orders": 1}, "erp": {}})
    assert doc["counts"] == {"matched": 0, "missing_in_erp": 1, "duplicated": 1, "total_mismatch": 0,
                             "needs_attention": 0, "not_exported": 0}
    assert [(g["result"], g["reference"]) for g in doc["gaps"]] == [("duplicated", "XC1-1001"),
                                                                    ("missing_in_erp", "XC1-1002")]
    assert doc["gaps"][0]["erp_documents"] == ["ORD1001", "X"] and doc["clean"] is False


def test_the_gauges_hold_every_result_and_the_run_time(tmp_path):
    rec = compare([store("1001"), store("1002")], [erp("1001")], P)
    path = tmp_path / "reconcile.prom"
    publish(rec, "xcart-sage300", pushgateway=None, metrics_file=str(path))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(path.read_text()) for s in fam.samples}
    assert samples[("sagebridge_reconcile_documents", (("pair", "xcart-sage300"), ("result", "missing_in_erp")))] == 1
    assert samples[("sagebridge_reconcile_documents", (("pair", "xcart-sage300"), ("result", "matched")))] == 1
    assert samples[("sagebridge_reconcile_documents", (("pair", "xcart-sage300"), ("result", "duplicated")))] == 0
    assert samples[("sagebridge_reconcile_last_run_timestamp_seconds", (("pair", "xcart-sage300"),))] > 0
    assert metrics_registry(rec, "p", finished=5.0).get_sample_value(
        "sagebridge_reconcile_last_run_timestamp_seconds", {"pair": "p"}) == 5.0
