"""GL/GLJournalBatches (view GL0008 over GLBCTL; entries GLJEH, details GLJED; accounts GLAMF).

Shape from the Sage300-SDK sample `samples/WebApi_SamplePostPayloads/GL/GLJournalBatches.txt`:
{BatchNumber "000490", Status "Open", Description, JournalHeaders[{EntryNumber "00001", SourceLedger
"GL", SourceType "JE", Description, DocumentDate, JournalDetails[{TransactionNumber "0000000020" (step
20), AccountNumber, Amount (+ debit / - credit), SourceCurrencyAmount, Description, Reference}]}]}.
Keys in the body (BatchNumber, EntryNumber, TransactionNumber) are accepted and ignored: the view
numbers batches, entries and details itself (batch numbers are a sequence, never reused).

Refusals: the details of an entry must sum to zero, an unknown or inactive account, and a
SourceCurrencyAmount different from Amount (every account is in the home currency here) are 400
RecordInvalid; an unknown property or an empty JournalHeaders/JournalDetails is 400 InvalidPayload.
Source ledger/type are stored unchecked (no GLSRCE table); they default to GL/JE.
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from .ar_batches import check_account
from .conversions import DATE, DEC, INT, STR, EnumConv, parse_date, reject_unknown, require_object
from .db import SCHEMA, Sage300Database, utc_stamp
from .http_errors import invalid_payload, record_invalid
from .queries import created
from .resources import Prop, Resource

if TYPE_CHECKING:
    from .state import SimState

STATUS = EnumConv({1: "Open", 7: "ReadyToPost"})
DETAIL_STEP = 20

BATCH_PROPS = [
    Prop("BatchNumber", "BATCHID"), Prop("Description", "BTCHDESC"), Prop("SourceLedger", "SRCELEDGR"),
    Prop("Status", "BATCHSTAT", STATUS), Prop("NumberOfEntries", "ENTRYCNT", INT),
    Prop("DateCreated", "DATECREAT", DATE),
]
HEADER_PROPS = [
    Prop("BatchNumber", "BATCHID"), Prop("EntryNumber", "BTCHENTRY"), Prop("SourceLedger", "SRCELEDGER"),
    Prop("SourceType", "SRCETYPE"), Prop("Description", "JRNLDESC"), Prop("DocumentDate", "DATEENTRY", DATE),
    Prop("Debits", "JRNLDR", DEC), Prop("Credits", "JRNLCR", DEC),
]
DETAIL_PROPS = [
    Prop("BatchNumber", "BATCHID"), Prop("EntryNumber", "BTCHENTRY"), Prop("TransactionNumber", "TRANSNBR"),
    Prop("AccountNumber", "ACCTID"), Prop("Amount", "TRANSAMT", DEC), Prop("SourceCurrencyAmount", "SCURNAMT", DEC),
    Prop("Description", "TRANSDESC"), Prop("Reference", "TRANSREF"),
]
BATCH_POST = {"BatchNumber", "Status", "Description", "JournalHeaders"}
HEADER_POST = {"BatchNumber", "EntryNumber", "SourceLedger", "SourceType", "Description", "DocumentDate",
               "JournalDetails"}
DETAIL_POST = {"BatchNumber", "EntryNumber", "TransactionNumber", "AccountNumber", "Amount",
               "SourceCurrencyAmount", "Description", "Reference"}


class JournalsResource(Resource):
    """GLBCTL rows with JournalHeaders (GLJEH) and their JournalDetails (GLJED) nested."""

    def expand(self, db: Sage300Database, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for batch in entries:
            key = {"BATCHID": batch["BatchNumber"]}
            details = db.select("GLJED", key)
            headers = []
            for h in db.select("GLJEH", key):
                header = {p.api: p.conv.to_api(h[p.col]) for p in HEADER_PROPS}
                header["JournalDetails"] = [{p.api: p.conv.to_api(d[p.col]) for p in DETAIL_PROPS}
                                            for d in details if d["BTCHENTRY"] == h["BTCHENTRY"]]
                headers.append(header)
            batch["JournalHeaders"] = headers
        return entries


def build_journals_resource() -> JournalsResource:
    return JournalsResource("GL", "GLJournalBatches", "GLBCTL", BATCH_PROPS, "BatchNumber",
                            expansions=frozenset({"JournalHeaders"}))


def _text(raw: dict[str, Any], prop: str, table: str, col: str, where: str) -> str:
    return STR.from_api(where + prop, raw.get(prop), SCHEMA[table].col(col).size, 0).strip()


def build_journal(db: Sage300Database, payload: Any) -> tuple[dict, list[dict], list[dict]]:
    """Validate a POST body -> (GLBCTL row, GLJEH rows, GLJED rows) without the batch number."""
    payload = require_object(payload, "The request body")
    reject_unknown(payload, BATCH_POST, "GLJournalBatches")
    batch = {"BTCHDESC": _text(payload, "Description", "GLBCTL", "BTCHDESC", ""), "SRCELEDGR": "GL",
             "BATCHSTAT": STATUS.from_api("Status", payload.get("Status", "Open"), 0, 0),
             "DATECREAT": utc_stamp()[0]}
    headers_in = payload.get("JournalHeaders")
    if not isinstance(headers_in, list) or not headers_in:
        raise invalid_payload("JournalHeaders is required and must be a non-empty array.")
    headers, details = [], []
    for n, raw in enumerate(headers_in, start=1):
        where = f"JournalHeaders[{n - 1}]."
        header, lines = _build_header(db, require_object(raw, where[:-1]), where)
        entry = f"{n:05d}"
        headers.append({**header, "BTCHENTRY": entry})
        details += [{**d, "BTCHENTRY": entry} for d in lines]
    batch["ENTRYCNT"] = len(headers)
    batch["DEBITTOT"] = sum((h["JRNLDR"] for h in headers), Decimal(0))
    batch["CREDITTOT"] = sum((h["JRNLCR"] for h in headers), Decimal(0))
    return batch, headers, details


def _build_header(db: Sage300Database, raw: dict[str, Any], where: str) -> tuple[dict, list[dict]]:
    reject_unknown(raw, HEADER_POST, where[:-1])
    date = raw.get("DocumentDate")
    header = {"SRCELEDGER": _text(raw, "SourceLedger", "GLJEH", "SRCELEDGER", where) or "GL",
              "SRCETYPE": _text(raw, "SourceType", "GLJEH", "SRCETYPE", where) or "JE",
              "JRNLDESC": _text(raw, "Description", "GLJEH", "JRNLDESC", where),
              "DATEENTRY": parse_date(where + "DocumentDate", date) if date is not None else utc_stamp()[0]}
    details_in = raw.get("JournalDetails")
    if not isinstance(details_in, list) or not details_in:
        raise invalid_payload(f"{where}JournalDetails is required and must be a non-empty array.")
    lines = [_build_detail(db, require_object(d, f"{where}JournalDetails[{i}]"), f"{where}JournalDetails[{i}].")
             for i, d in enumerate(details_in)]
    for n, line in enumerate(lines, start=1):
        line["TRANSNBR"] = f"{n * DETAIL_STEP:010d}"
    total = sum((line["TRANSAMT"] for line in lines), Decimal(0))
    if total != 0:
        raise record_invalid(f"{where[:-1]} is out of balance by {total} (debits must equal credits).")
    header["JRNLDR"] = sum((line["TRANSAMT"] for line in lines if line["TRANSAMT"] > 0), Decimal(0))
    header["JRNLCR"] = -sum((line["TRANSAMT"] for line in lines if line["TRANSAMT"] < 0), Decimal(0))
    return header, lines


def _build_detail(db: Sage300Database, raw: dict[str, Any], where: str) -> dict[str, Any]:
    reject_unknown(raw, DETAIL_POST, where[:-1])
    account = _text(raw, "AccountNumber", "GLJED", "ACCTID", where)
    if not account:
        raise invalid_payload(f"{where}AccountNumber is required.")
    check_account(db, account)
    if raw.get("Amount") is None:
        raise invalid_payload(f"{where}Amount is required.")
    amount = DEC.from_api(where + "Amount", raw["Amount"], 0, 3)
    source = amount if raw.get("SourceCurrencyAmount") is None else \
        DEC.from_api(where + "SourceCurrencyAmount", raw["SourceCurrencyAmount"], 0, 3)
    if source != amount:
        raise record_invalid(f"{where}SourceCurrencyAmount {source} differs from Amount {amount} "
                             "(the account is in the home currency).")
    return {"ACCTID": account, "TRANSAMT": amount, "SCURNAMT": source,
            "TRANSDESC": _text(raw, "Description", "GLJED", "TRANSDESC", where),
            "TRANSREF": _text(raw, "Reference", "GLJED", "TRANSREF", where)}


def post_journal(sim: SimState, request: Request, resource: Resource, payload: Any, received_ms: int = 0) -> Response:
    """Insert one journal batch (no dedup: every POST makes a new batch)."""
    batch, headers, details = build_journal(sim.db, payload)
    sim.hold_commit(request.method, resource.name)
    with sim.db.transaction() as cur:
        last = int(sim.db.highest("GLBCTL", "BATCHID", None, cur) or 0)
        number = f"{sim.next_number('GL', last):06d}"
        sim.db.insert(cur, "GLBCTL", {**batch, "BATCHID": number}, user=sim.user)
        for table, rows in (("GLJEH", headers), ("GLJED", details)):
            for row in rows:
                sim.db.insert(cur, table, {**row, "BATCHID": number}, user=sim.user)
    return created(sim, request, resource, number, f"'{number}'")
