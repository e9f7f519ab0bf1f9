"""AR/ARReceiptAndAdjustmentBatches (view AR0041): receipt (CA) and adjustment (AD) batches.

Shapes from the Sage300-SDK samples `samples/WebApi_SamplePostPayloads/AR/ARReceiptAndAdjustmentBatches_
Prepayment.txt` (BatchRecordType "CA", BatchDate, Description, BankCode "SEATAC", ReceiptsAdjustments[
CustomerNumber, ReceiptDateAdjustmentDate, EntryDescription, EntryReference, BankReceiptAmount,
CustomerReceiptAmount, ReceiptTransactionType "Prepayment", AppliedReceiptsAdjustments[LineNumber 20,
CustomerNumber, PaymentNumber, CustomerReceiptAmount]]) and `..._Adjustment.txt` (BatchRecordType "AD",
AppliedReceiptsAdjustments[DocumentNumber, AdjustmentGLDistributions[DistributionAmount -1,
DistributionCode "DESK", DistributionGLAccount "4030"]]). The samples also carry the keys and totals
(BatchNumber, BatchType, EntryNumber, LineNumber, SequenceNumber, TransactionType, NumberOfEntries,
TotalCustomerAmountApplied, ...): they are accepted and ignored, because the view generates keys
(the Developer Reference: "POST ... returns the whole inserted entry, including keys the system
generated") and computes totals. The Endpoint Reference: "POST needs BatchRecordType CA or AD".
GET one: `ARReceiptAndAdjustmentBatches(BatchRecordType = 'CA', BatchNumber = 65)` (Developer Reference).

Tables (ledger_tables.py): ARBTA batch, ARTCR entries, ARTCP applied lines (step 20, as the samples'
LineNumber 20), ARTCU G/L distributions. Batch numbers are a sequence per record type, never reused.

Refusals (400 RecordInvalid unless noted): unknown or inactive bank code (CA needs one), unknown
customer, unknown G/L account, a receipt amount not positive, bank and customer amounts that differ
(the bank and the customer share the home currency here), applied amounts above the receipt; an
unknown property at any level, a BatchRecordType other than CA/AD or a ReceiptTransactionType not in
Receipt|Prepayment|UnappliedCash is 400 InvalidPayload. DocumentNumber and DistributionCode are stored
unchecked (no A/R documents or distribution codes are simulated).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from .conversions import DATE, DEC, INT, STR, EnumConv, parse_date, reject_unknown, require_object
from .db import SCHEMA, Sage300Database, utc_stamp
from .http_errors import invalid_payload, record_invalid
from .ledger_tables import HOME_CURRENCY
from .queries import created
from .resources import Prop, Resource

if TYPE_CHECKING:
    from .state import SimState

RECEIPT_TYPES = EnumConv({1: "Receipt", 2: "Prepayment", 3: "UnappliedCash"})
BATCH_STATUS = EnumConv({1: "Open", 7: "ReadyToPost"})
LINE_STEP = 20

BATCH_PROPS = [
    Prop("BatchRecordType", "CODEPYMTYP"), Prop("BatchNumber", "CNTBTCH", INT), Prop("BatchDate", "DATEBTCH", DATE),
    Prop("Description", "BATCHDESC"), Prop("BatchStatus", "BATCHSTAT", BATCH_STATUS), Prop("BankCode", "IDBANK"),
    Prop("DefaultBankCurrency", "CODECURN"), Prop("NumberOfEntries", "CNTENTER", INT),
    Prop("BatchTotal", "AMTENTER", DEC),
]
ENTRY_PROPS = [
    Prop("BatchType", "CODEPYMTYP"), Prop("BatchNumber", "CNTBTCH", INT), Prop("EntryNumber", "CNTITEM", INT),
    Prop("CustomerNumber", "IDCUST"), Prop("ReceiptDateAdjustmentDate", "DATERMIT", DATE),
    Prop("EntryDescription", "TEXTRMIT"), Prop("EntryReference", "TXTRMITREF"),
    Prop("BankReceiptAmount", "AMTRMIT", DEC), Prop("CustomerReceiptAmount", "AMTRMITTC", DEC),
    Prop("ReceiptTransactionType", "RMITTYPE", RECEIPT_TYPES),
]
APPLIED_PROPS = [
    Prop("BatchType", "CODEPYMTYP"), Prop("BatchNumber", "CNTBTCH", INT), Prop("EntryNumber", "CNTITEM", INT),
    Prop("LineNumber", "CNTLINE", INT), Prop("CustomerNumber", "IDCUST"), Prop("DocumentNumber", "IDINVC"),
    Prop("PaymentNumber", "CNTPAYM", INT), Prop("CustomerReceiptAmount", "AMTPAYM", DEC),
    Prop("Description", "TEXTDESC"), Prop("Reference", "TEXTREF"),
]
DIST_PROPS = [
    Prop("BatchType", "CODEPYMTYP"), Prop("BatchNumber", "CNTBTCH", INT), Prop("EntryNumber", "CNTITEM", INT),
    Prop("LineNumber", "CNTLINE", INT), Prop("SequenceNumber", "CNTSEQNCE", INT),
    Prop("TransactionType", "TRANSTYPE", INT), Prop("DistributionAmount", "AMTDIST", DEC),
    Prop("DistributionCode", "IDDISTCODE"), Prop("DistributionGLAccount", "IDACCT"),
]
AD_ENTRY_HIDDEN = {"BankReceiptAmount", "CustomerReceiptAmount", "ReceiptTransactionType"}
# accepted in a POST and ignored: generated keys and computed totals, as the SDK samples send them
IGNORED = {"BatchNumber", "BatchType", "EntryNumber", "LineNumber", "SequenceNumber", "NumberOfEntries",
           "TotalCustomerAmountApplied", "CustomerUnappliedAmount", "BatchTotal", "TransactionType"}
BATCH_POST = {"BatchRecordType", "BatchDate", "Description", "BankCode", "DefaultBankCurrency", "BatchStatus",
              "ReceiptsAdjustments"} | IGNORED
ENTRY_POST = {"CustomerNumber", "ReceiptDateAdjustmentDate", "EntryDescription", "EntryReference",
              "BankReceiptAmount", "CustomerReceiptAmount", "ReceiptTransactionType",
              "AppliedReceiptsAdjustments"} | IGNORED
APPLIED_POST = {"CustomerNumber", "DocumentNumber", "PaymentNumber", "CustomerReceiptAmount", "Description",
                "Reference", "AdjustmentGLDistributions"} | IGNORED
DIST_POST = {"DistributionAmount", "DistributionCode", "DistributionGLAccount"} | IGNORED


def _rows_to(props: list[Prop], row: dict[str, Any]) -> dict[str, Any]:
    return {p.api: p.conv.to_api(row[p.col]) for p in props}


class BatchesResource(Resource):
    """ARBTA rows, with entries, applied lines and distributions nested under the batches returned."""

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for batch in entries:
            key = {"CODEPYMTYP": batch["BatchRecordType"], "CNTBTCH": batch["BatchNumber"]}
            applied = db.select("ARTCP", key)
            dists = db.select("ARTCU", key)
            batch["ReceiptsAdjustments"] = [self._entry(row, applied, dists) for row in db.select("ARTCR", key)]
        return entries

    @staticmethod
    def _entry(row: dict[str, Any], applied: list[dict], dists: list[dict]) -> dict[str, Any]:
        entry = _rows_to(ENTRY_PROPS, row)
        if row["CODEPYMTYP"] == "AD":
            entry = {k: v for k, v in entry.items() if k not in AD_ENTRY_HIDDEN}
        lines = []
        for a in (a for a in applied if a["CNTITEM"] == row["CNTITEM"]):
            line = _rows_to(APPLIED_PROPS, a)
            line["AdjustmentGLDistributions"] = [_rows_to(DIST_PROPS, d) for d in dists
                                                 if d["CNTITEM"] == a["CNTITEM"] and d["CNTLINE"] == a["CNTLINE"]]
            lines.append(line)
        entry["AppliedReceiptsAdjustments"] = lines
        return entry


def build_batches_resource() -> BatchesResource:
    return BatchesResource("AR", "ARReceiptAndAdjustmentBatches", "ARBTA", BATCH_PROPS,
                           "BatchRecordType,BatchNumber", expansions=frozenset({"ReceiptsAdjustments"}))


# ----- POST ------------------------------------------------------------------------------------------
def _text(payload: dict[str, Any], prop: str, table: str, col: str, where: str) -> str:
    size = SCHEMA[table].col(col).size
    return STR.from_api(where + prop, payload.get(prop), size, 0).strip()


def _amount(payload: dict[str, Any], prop: str, where: str) -> Decimal | None:
    return None if payload.get(prop) is None else DEC.from_api(where + prop, payload[prop], 0, 3)


def _customer(db: Sage300Database, number: str, where: str) -> str:
    if not number:
        raise invalid_payload(f"{where}CustomerNumber is required.")
    if len(number) > 12 or db.get("ARCUS", {"IDCUST": number}) is None:
        raise record_invalid(f"Customer {number} does not exist.")
    return number


def build_batch(db: Sage300Database, payload: Any) -> tuple[dict, list[dict], list[dict], list[dict]]:
    """Validate a POST body -> (ARBTA row, ARTCR rows, ARTCP rows, ARTCU rows) without keys."""
    payload = require_object(payload, "The request body")
    reject_unknown(payload, BATCH_POST, "ARReceiptAndAdjustmentBatches")
    kind = payload.get("BatchRecordType")
    if kind not in ("CA", "AD"):
        raise invalid_payload("BatchRecordType must be CA (receipts) or AD (adjustments).")
    date = parse_date("BatchDate", payload["BatchDate"]) if payload.get("BatchDate") is not None else utc_stamp()[0]
    batch = {"CODEPYMTYP": kind, "DATEBTCH": date, "BATCHSTAT": 1, "CODECURN": HOME_CURRENCY,
             "BATCHDESC": _text(payload, "Description", "ARBTA", "BATCHDESC", ""),
             "IDBANK": _text(payload, "BankCode", "ARBTA", "IDBANK", "")}
    if payload.get("BatchStatus") is not None:
        batch["BATCHSTAT"] = BATCH_STATUS.from_api("BatchStatus", payload["BatchStatus"], 0, 0)
    if kind == "CA" or batch["IDBANK"]:
        _check_bank(db, batch["IDBANK"])
    entries_in = payload.get("ReceiptsAdjustments")
    if not isinstance(entries_in, list) or not entries_in:
        raise invalid_payload("ReceiptsAdjustments is required and must be a non-empty array.")
    entries, applied, dists = [], [], []
    for n, raw in enumerate(entries_in, start=1):
        where = f"ReceiptsAdjustments[{n - 1}]."
        entry, lines, entry_dists = _build_entry(db, kind, require_object(raw, where[:-1]), where, date)
        entries.append({**entry, "CNTITEM": n})
        applied += [{**a, "CNTITEM": n} for a in lines]
        dists += [{**d, "CNTITEM": n} for d in entry_dists]
    batch["CNTENTER"] = len(entries)
    batch["AMTENTER"] = sum((e["AMTRMITTC"] for e in entries), Decimal(0)) if kind == "CA" else \
        sum((d["AMTDIST"] for d in dists), Decimal(0))
    return batch, entries, applied, dists


def _check_bank(db: Sage300Database, code: str) -> None:
    if not code:
        raise invalid_payload("BankCode is required for a receipt batch.")
    bank = db.get("BKACCT", {"BANK": code})
    if bank is None or bank["INACTIVE"]:
        raise record_invalid(f"Bank {code} does not exist or is inactive.")


def _build_entry(db: Sage300Database, kind: str, raw: dict[str, Any], where: str,
                 batch_date: int) -> tuple[dict, list[dict], list[dict]]:
    reject_unknown(raw, ENTRY_POST, where[:-1])
    customer = _customer(db, _text(raw, "CustomerNumber", "ARTCR", "IDCUST", where), where)
    date = raw.get("ReceiptDateAdjustmentDate")
    entry = {"IDCUST": customer, "DATERMIT": parse_date(where + "ReceiptDateAdjustmentDate", date) if date else batch_date,
             "TEXTRMIT": _text(raw, "EntryDescription", "ARTCR", "TEXTRMIT", where),
             "TXTRMITREF": _text(raw, "EntryReference", "ARTCR", "TXTRMITREF", where)}
    if kind == "CA":
        entry.update(_receipt_amounts(raw, where))
    lines_in = raw.get("AppliedReceiptsAdjustments") or []
    if not isinstance(lines_in, list):
        raise invalid_payload(f"{where}AppliedReceiptsAdjustments must be an array.")
    if kind == "AD" and not lines_in:
        raise invalid_payload(f"{where}AppliedReceiptsAdjustments is required for an adjustment.")
    lines, dists = [], []
    for n, line_raw in enumerate(lines_in, start=1):
        line_where = f"{where}AppliedReceiptsAdjustments[{n - 1}]."
        line, line_dists = _build_applied(db, require_object(line_raw, line_where[:-1]), line_where, customer)
        lines.append({**line, "CNTLINE": n * LINE_STEP})
        dists += [{**d, "CNTLINE": n * LINE_STEP} for d in line_dists]
    if kind == "AD" and not dists:
        raise invalid_payload(f"{where}an adjustment needs AdjustmentGLDistributions.")
    if kind == "CA" and sum((a["AMTPAYM"] for a in lines), Decimal(0)) > entry["AMTRMITTC"]:
        raise record_invalid(f"{where}applied amounts exceed the receipt amount {entry['AMTRMITTC']}.")
    return entry, lines, dists


def _receipt_amounts(raw: dict[str, Any], where: str) -> dict[str, Any]:
    bank, cust = _amount(raw, "BankReceiptAmount", where), _amount(raw, "CustomerReceiptAmount", where)
    if bank is None and cust is None:
        raise invalid_payload(f"{where}BankReceiptAmount or CustomerReceiptAmount is required.")
    bank, cust = (cust if bank is None else bank), (bank if cust is None else cust)
    if bank != cust:
        raise record_invalid(f"{where}BankReceiptAmount {bank} differs from CustomerReceiptAmount {cust} "
                             f"(bank and customer currency are both {HOME_CURRENCY}).")
    if bank <= 0:
        raise record_invalid(f"{where}the receipt amount must be positive.")
    kind = raw.get("ReceiptTransactionType", "Receipt")
    return {"AMTRMIT": bank, "AMTRMITTC": cust,
            "RMITTYPE": RECEIPT_TYPES.from_api(where + "ReceiptTransactionType", kind, 0, 0)}


def _build_applied(db: Sage300Database, raw: dict[str, Any], where: str, customer: str) -> tuple[dict, list[dict]]:
    reject_unknown(raw, APPLIED_POST, where[:-1])
    number = _text(raw, "CustomerNumber", "ARTCP", "IDCUST", where) or customer
    if number != customer:
        raise record_invalid(f"{where}CustomerNumber {number} is not the entry's customer {customer}.")
    payment = raw.get("PaymentNumber", 1)
    line = {"IDCUST": number, "IDINVC": _text(raw, "DocumentNumber", "ARTCP", "IDINVC", where),
            "CNTPAYM": INT.from_api(where + "PaymentNumber", payment, 0, 0),
            "AMTPAYM": _amount(raw, "CustomerReceiptAmount", where) or Decimal(0),
            "TEXTDESC": _text(raw, "Description", "ARTCP", "TEXTDESC", where),
            "TEXTREF": _text(raw, "Reference", "ARTCP", "TEXTREF", where)}
    dists_in = raw.get("AdjustmentGLDistributions") or []
    if not isinstance(dists_in, list):
        raise invalid_payload(f"{where}AdjustmentGLDistributions must be an array.")
    dists = [_build_dist(db, require_object(d, f"{where}AdjustmentGLDistributions[{i}]"),
                         f"{where}AdjustmentGLDistributions[{i}].", i + 1) for i, d in enumerate(dists_in)]
    return line, dists


def _build_dist(db: Sage300Database, raw: dict[str, Any], where: str, seq: int) -> dict[str, Any]:
    reject_unknown(raw, DIST_POST, where[:-1])
    account = _text(raw, "DistributionGLAccount", "ARTCU", "IDACCT", where)
    if not account:
        raise invalid_payload(f"{where}DistributionGLAccount is required.")
    check_account(db, account)
    amount = _amount(raw, "DistributionAmount", where)
    if amount is None:
        raise invalid_payload(f"{where}DistributionAmount is required.")
    return {"CNTSEQNCE": seq, "IDACCT": account, "AMTDIST": amount, "TRANSTYPE": 81,
            "IDDISTCODE": _text(raw, "DistributionCode", "ARTCU", "IDDISTCODE", where)}


def check_account(db: Sage300Database, account: str) -> None:
    """A G/L account must exist in GLAMF and be active."""
    row = db.get("GLAMF", {"ACCTID": account})
    if row is None or not row["ACTIVESW"]:
        raise record_invalid(f"G/L account {account} does not exist or is inactive.")


def post_batch(sim: SimState, request: Request, resource: Resource, payload: Any, received_ms: int = 0) -> Response:
    """Insert one batch with its entries (no dedup: every POST makes a new batch)."""
    batch, entries, applied, dists = build_batch(sim.db, payload)
    sim.hold_commit(request.method, resource.name)
    kind = batch["CODEPYMTYP"]
    with sim.db.transaction() as cur:
        number = sim.next_number(f"AR{kind}", int(sim.db.highest("ARBTA", "CNTBTCH", {"CODEPYMTYP": kind}, cur) or 0))
        key = {"CODEPYMTYP": kind, "CNTBTCH": number}
        sim.db.insert(cur, "ARBTA", {**batch, **key}, user=sim.user)
        for table, rows in (("ARTCR", entries), ("ARTCP", applied), ("ARTCU", dists)):
            for row in rows:
                sim.db.insert(cur, table, {**row, **key}, user=sim.user)
    return created(sim, request, resource, (kind, number), f"BatchRecordType='{kind}',BatchNumber={number}")
