"""Payments, gateway fees and refunds through the sink against the simulator over real HTTP:
one receipt per transaction (also when the answer is lost while Sage still commits), one balanced
fee journal, one adjustment per refund, each found again by its batch Description."""
from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from sagebridge_common.errors import OutcomeUnknownError, PermanentError
from sagebridge_connectors.sage300.sink import Sage300Sink

from .conftest import Clock, api_calls, payment, refund, unique, wait_for


def batches(sage, record_type: str, description: str) -> list[dict]:
    return [b for b in httpx.get(f"{sage.url}/_sim/receipts").json()
            if b["BatchRecordType"] == record_type and b["Description"] == description]


def journals(sage, description: str) -> list[dict]:
    return [j for j in httpx.get(f"{sage.url}/_sim/journals").json() if j["Description"] == description]


def test_a_payment_is_one_receipt_and_a_repeat_is_already_present(sage, make_pair):
    number, txn = unique(), unique("t")
    done = Sage300Sink(make_pair()).ensure_payment(payment(number, txn))
    assert done.outcome == "created"
    [batch] = batches(sage, "CA", f"XC1-{number}-P{txn}")
    [entry] = batch["ReceiptsAdjustments"]
    assert batch["BankCode"] == "SEATAC" and batch["BatchDate"].startswith("2024-11-05")   # the store's day
    assert entry["CustomerNumber"] == "WEBCUST" and entry["EntryReference"] == f"XC1-{number}"
    assert Decimal(str(entry["BankReceiptAmount"])) == Decimal("64.87") == Decimal(str(entry["CustomerReceiptAmount"]))
    assert entry["ReceiptTransactionType"] == "Prepayment"
    assert entry["ReceiptDateAdjustmentDate"].startswith("2024-11-05")
    again = Sage300Sink(make_pair()).ensure_payment(payment(number, txn))     # a restarted writer
    assert again.outcome == "already_present" and again.document_id == done.document_id
    assert len(batches(sage, "CA", f"XC1-{number}-P{txn}")) == 1
    [row] = sage.db.select("ARBTA", {"BATCHDESC": f"XC1-{number}-P{txn}"})          # the table, through ODBC
    assert (row["IDBANK"], row["AMTENTER"]) == ("SEATAC", Decimal("64.870"))
    [remit] = sage.db.select("ARTCR", {"TXTRMITREF": f"XC1-{number}"})
    assert (remit["IDCUST"], remit["AMTRMIT"]) == ("WEBCUST", Decimal("64.870"))


def test_receipt_whose_answer_is_lost_while_sage_commits_is_still_one(sage, make_pair):
    clock = Clock()
    sink = Sage300Sink(make_pair(timeout_s=0.5, settle_delay_s=30), clock=clock)
    number, txn = unique(), unique("t")
    description = f"XC1-{number}-P{txn}"
    sage.injector.configure(commit_late_ms=2000)
    with pytest.raises(OutcomeUnknownError) as first:
        sink.ensure_payment(payment(number, txn))
    assert first.value.retry_after >= 30
    wait_for(lambda: batches(sage, "CA", description), "the late commit")
    sage.injector.configure(reset=True)
    before = api_calls(sage)
    clock.now += 10
    with pytest.raises(OutcomeUnknownError, match="unknown outcome"):
        sink.ensure_payment(payment(number, txn))                  # too early: no call at all
    assert api_calls(sage) == before
    clock.now += 20
    assert sink.ensure_payment(payment(number, txn)).outcome == "already_present"
    assert len(batches(sage, "CA", description)) == 1


def test_a_writer_restarted_after_a_crash_mid_post_does_not_post_the_receipt_again(sage, make_pair):
    """The first writer is killed while Sage still commits its POST: its memory of the unknown
    outcome dies with it. The restarted one's lookup misses the batch, and must not post it."""
    number, txn = unique(), unique("t")
    description = f"XC1-{number}-P{txn}"
    sage.injector.configure(commit_late_ms=2000)
    with pytest.raises(OutcomeUnknownError):
        Sage300Sink(make_pair(timeout_s=0.5)).ensure_payment(payment(number, txn))     # then SIGKILL
    sage.injector.configure(reset=True)
    clock = Clock()
    restarted = Sage300Sink(make_pair(timeout_s=0.5, settle_delay_s=30), clock=clock, restart_hold=True)
    with pytest.raises(OutcomeUnknownError) as held:
        restarted.ensure_payment(payment(number, txn))
    assert held.value.reason == "sage300_settling_after_start" and held.value.retry_after == 30
    wait_for(lambda: batches(sage, "CA", description), "the late commit")
    assert restarted.ensure_payment(payment(number, txn)).outcome == "already_present"   # found: at once
    clock.now += 30
    fresh = unique("t")
    assert restarted.ensure_payment(payment(number, fresh)).outcome == "created"          # the hold is over
    assert len(batches(sage, "CA", description)) == 1 and len(batches(sage, "CA", f"XC1-{number}-P{fresh}")) == 1


def test_receipt_lost_by_a_gateway_is_posted_after_the_settle_delay(sage, make_pair):
    clock = Clock()
    sink = Sage300Sink(make_pair(settle_delay_s=5), clock=clock)
    number, txn = unique(), unique("t")
    sage.injector.configure(error_status=502, error_count=1, methods=["POST"])
    with pytest.raises(OutcomeUnknownError):
        sink.ensure_payment(payment(number, txn))
    clock.now += 5
    assert sink.ensure_payment(payment(number, txn)).outcome == "created"
    assert len(batches(sage, "CA", f"XC1-{number}-P{txn}")) == 1


def test_gateway_fee_is_one_balanced_journal(sage, make_pair):
    number, txn = unique(), unique("t")
    paid = payment(number, txn, fee_amount=Decimal("2.1800"), fee_expense_account="6100",
                   fee_clearing_account="1020")
    done = Sage300Sink(make_pair()).ensure_payment(paid)
    assert done.outcome == "created" and done.details["fee_outcome"] == "created"
    [journal] = journals(sage, f"XC1-{number}-F{txn}")
    [header] = journal["JournalHeaders"]
    details = {d["AccountNumber"]: Decimal(str(d["Amount"])) for d in header["JournalDetails"]}
    assert details == {"6100": Decimal("2.18"), "1020": Decimal("-2.18")}      # debit expense, credit clearing
    assert sum(details.values()) == 0
    [control] = sage.db.select("GLBCTL", {"BTCHDESC": f"XC1-{number}-F{txn}"})      # through ODBC
    assert control["DEBITTOT"] == control["CREDITTOT"] == Decimal("2.180")
    again = Sage300Sink(make_pair()).ensure_payment(paid)
    assert again.outcome == "already_present" and again.details["fee_outcome"] == "already_present"
    assert len(journals(sage, f"XC1-{number}-F{txn}")) == 1 and len(batches(sage, "CA", f"XC1-{number}-P{txn}")) == 1


def test_fee_without_accounts_writes_nothing(sage, make_pair):
    number, txn = unique(), unique("t")
    with pytest.raises(PermanentError) as e:
        Sage300Sink(make_pair()).ensure_payment(payment(number, txn, fee_amount=Decimal("1")))
    assert e.value.reason == "sage300_fee_accounts_missing"
    assert batches(sage, "CA", f"XC1-{number}-P{txn}") == []


def test_a_refund_is_one_adjustment_to_the_refund_account(sage, make_pair):
    number, rid = unique(), unique("b")
    done = Sage300Sink(make_pair()).ensure_refund(refund(number, rid))
    assert done.outcome == "created"
    [batch] = batches(sage, "AD", f"XC1-{number}-R{rid}")
    [entry] = batch["ReceiptsAdjustments"]
    assert entry["CustomerNumber"] == "WEBCUST" and entry["EntryReference"] == f"XC1-{number}"
    [line] = entry["AppliedReceiptsAdjustments"]
    [dist] = line["AdjustmentGLDistributions"]
    assert dist["DistributionGLAccount"] == "4030" and Decimal(str(dist["DistributionAmount"])) == Decimal("10")
    again = Sage300Sink(make_pair()).ensure_refund(refund(number, rid))
    assert again.outcome == "already_present" and again.document_id == done.document_id
    assert len(batches(sage, "AD", f"XC1-{number}-R{rid}")) == 1


def test_description_that_cannot_fit_is_refused(sage, make_pair):
    with pytest.raises(PermanentError) as e:
        Sage300Sink(make_pair()).ensure_payment(payment("1001", "t" + "9" * 60))
    assert e.value.reason == "sage300_description_too_long" and "60" in str(e.value)
