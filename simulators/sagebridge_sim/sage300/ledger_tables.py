"""The A/R receipt, G/L journal, bank and currency tables, and the seed rows the hub's flows rely on.

Table names are Sage's (Sage 300 Web API Endpoint Reference, Aug 2022): AR/ARReceiptAndAdjustmentBatches
is view AR0041 over ARBTA (batches), with entries in ARTCR, applied lines in ARTCP and the adjustment
G/L distributions in ARTCU; GL/GLJournalBatches is GL0008 over GLBCTL, entries GLJEH, details GLJED;
accounts GLAMF; CS/CSCurrencyCodes is CSCCD; bank codes are Bank Services' BKACCT. ARTCU as the name of
the distribution table could not be confirmed from a public AOM page (the Endpoint Reference names
only the batch view), so it is the plausible AOM-style name; the other names are on Sage's AOM pages.
Column names follow the AOM where known (ARBTA.CODEPYMTYP/CNTBTCH, ARTCR.CNTITEM/IDCUST, GLAMF.ACCTID,
CSCCD.CURID, BKACCT.BANK); sizes: batch numbers DECIMAL(9,0), GL batch CHAR(6) "000001", entry CHAR(5),
transaction CHAR(10) "0000000020" (the SDK's GLJournalBatches sample), accounts CHAR(45).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .tables import SCHEMA, C, D, I, _amt, _date, _table

if TYPE_CHECKING:
    from .db import Sage300Database

HOME_CURRENCY = "USD"
"""The company's functional currency (CSCOM.HOMECUR in Sage); the simulated company is multicurrency."""

_BATCH = [C("CODEPYMTYP", 2), D("CNTBTCH", 9, 0)]       # "CA" receipts / "AD" adjustments + batch number
_ENTRY = _BATCH + [D("CNTITEM", 9, 0)]
_APPLIED = _ENTRY + [D("CNTLINE", 9, 0)]
_GL_ENTRY = [C("BATCHID", 6), C("BTCHENTRY", 5)]

SCHEMA.update({t.name: t for t in [
    _table("BKACCT", [C("BANK", 8)], [C("NAME", 60), C("CURNSTMT", 3), I("INACTIVE")]),
    _table("CSCCD", [C("CURID", 3)], [C("CURNAME", 60), C("SYMBOL", 4), I("DECIMALS")]),
    _table("GLAMF", [C("ACCTID", 45)], [C("ACCTFMTTD", 45), C("ACCTDESC", 60), I("ACTIVESW")]),
    _table("ARBTA", _BATCH, [
        _date("DATEBTCH"), C("BATCHDESC", 60), I("BATCHSTAT"), C("IDBANK", 8), C("CODECURN", 3),
        D("CNTENTER", 9, 0), _amt("AMTENTER")], indexes=("BATCHDESC",)),
    _table("ARTCR", _ENTRY, [
        C("IDCUST", 12), _date("DATERMIT"), C("TEXTRMIT", 60), C("TXTRMITREF", 60), I("RMITTYPE"),
        _amt("AMTRMIT"), _amt("AMTRMITTC")], indexes=("IDCUST", "TXTRMITREF")),
    _table("ARTCP", _APPLIED, [
        C("IDCUST", 12), C("IDINVC", 22), D("CNTPAYM", 5, 0), _amt("AMTPAYM"), C("TEXTDESC", 60),
        C("TEXTREF", 60)]),
    _table("ARTCU", _APPLIED + [D("CNTSEQNCE", 9, 0)], [
        C("IDDISTCODE", 6), C("IDACCT", 45), _amt("AMTDIST"), I("TRANSTYPE")]),
    _table("GLBCTL", [C("BATCHID", 6)], [
        C("BTCHDESC", 60), C("SRCELEDGR", 2), I("BATCHSTAT"), D("ENTRYCNT", 5, 0), _amt("DEBITTOT"),
        _amt("CREDITTOT"), _date("DATECREAT")], indexes=("BTCHDESC",)),
    _table("GLJEH", _GL_ENTRY, [
        C("SRCELEDGER", 2), C("SRCETYPE", 2), C("JRNLDESC", 60), _date("DATEENTRY"), _amt("JRNLDR"),
        _amt("JRNLCR")]),
    _table("GLJED", _GL_ENTRY + [C("TRANSNBR", 10)], [
        C("ACCTID", 45), _amt("TRANSAMT"), _amt("SCURNAMT"), C("TRANSDESC", 60), C("TRANSREF", 60)]),
]})

RECEIPT_TABLES = ("ARTCU", "ARTCP", "ARTCR", "ARBTA")
JOURNAL_TABLES = ("GLJED", "GLJEH", "GLBCTL")

SEED_BANKS = {"SEATAC": "Seattle-Tacoma Bank", "PAYPAL": "PayPal clearing account"}
SEED_ACCOUNTS = {"1000": "Cash in bank", "1020": "Cash clearing - web payments",
                 "4030": "Sales returns and allowances", "6100": "Bank and card processing fees"}
SEED_CURRENCIES = {"USD": ("US Dollar", "$"), "CAD": ("Canadian Dollar", "C$"), "EUR": ("Euro", "€"),
                   "GBP": ("Pound Sterling", "£")}


def seed_ledgers(db: Sage300Database) -> None:
    """Bank codes SEATAC (the SDK's ARReceiptAndAdjustmentBatches_Prepayment sample) and PAYPAL, GL
    accounts 1000 1020 4030 6100 (4030 is the SDK adjustment sample's distribution account), and
    currencies USD (home) CAD EUR GBP. Repeatable."""
    for bank, name in SEED_BANKS.items():
        db.upsert("BKACCT", {"BANK": bank, "NAME": name, "CURNSTMT": HOME_CURRENCY, "INACTIVE": 0})
    for account, desc in SEED_ACCOUNTS.items():
        db.upsert("GLAMF", {"ACCTID": account, "ACCTFMTTD": account, "ACCTDESC": desc, "ACTIVESW": 1})
    for code, (name, symbol) in SEED_CURRENCIES.items():
        db.upsert("CSCCD", {"CURID": code, "CURNAME": name, "SYMBOL": symbol, "DECIMALS": 2})


def clear_documents(db: Sage300Database) -> dict[str, int]:
    """Delete every receipt/adjustment batch and GL journal batch (seeds stay). Returns counts."""
    with db.transaction() as cur:
        counts = {"cleared_receipt_batches": len(db.select("ARBTA", None, cur)),
                  "cleared_journal_batches": len(db.select("GLBCTL", None, cur))}
        for table in RECEIPT_TABLES + JOURNAL_TABLES:
            cur.execute(f'DELETE FROM "{table}"')
    return counts
