"""The Sage 300 tables the simulator keeps, with the real names, key columns first and the audit
columns right after the key (reference sage300_sagepro.md §2.1-§2.2: CHAR(n) space-padded, BCD as
DECIMAL, dates DECIMAL(9,0) YYYYMMDD, times HHMMSShh). `db.py` reads and writes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class Col:
    """One column: kind "C" = CHAR(size), "D" = DECIMAL(size, scale), "I" = SMALLINT."""
    name: str
    kind: str
    size: int = 0
    scale: int = 0

    def sql_type(self) -> str:
        if self.kind == "C":
            return f"CHAR({self.size})"
        if self.kind == "D":
            return f"DECIMAL({self.size},{self.scale})"
        return "SMALLINT"

    def blank(self) -> Any:
        return "" if self.kind == "C" else (Decimal(0) if self.kind == "D" else 0)


def C(name: str, n: int) -> Col:
    return Col(name, "C", n)


def D(name: str, p: int, s: int) -> Col:
    return Col(name, "D", p, s)


def I(name: str) -> Col:  # noqa: E743 - SMALLINT column
    return Col(name, "I")


def _qty(name: str) -> Col:
    return D(name, 19, 4)


def _amt(name: str) -> Col:
    return D(name, 19, 3)


def _date(name: str) -> Col:
    return D(name, 9, 0)


AUDIT = [_date("AUDTDATE"), D("AUDTTIME", 9, 0), C("AUDTUSER", 8), C("AUDTORG", 6)]


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    cols: tuple[Col, ...]  # key columns first, then audit columns, then the rest
    unique: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()

    def col(self, name: str) -> Col:
        return self.by_name[name]

    @cached_property
    def by_name(self) -> dict[str, Col]:
        return {c.name: c for c in self.cols}


AUDIT_INDEX = "AUDTDATE,AUDTTIME"     # change capture's range query (erp_cdc) is one index seek


def _table(name: str, key: list[Col], rest: list[Col], unique: tuple[str, ...] = (),
           indexes: tuple[str, ...] = ()) -> Table:
    """`indexes`: column names, or comma-joined names for a composite index. Every table gets the
    audit-stamp index, as a Sage 300 site that runs change capture is asked to create."""
    return Table(name, tuple(c.name for c in key), tuple(key + AUDIT + rest), unique, indexes + (AUDIT_INDEX,))


SCHEMA: dict[str, Table] = {t.name: t for t in [
    _table("ICITEM", [C("ITEMNO", 24)], [
        C("FMTITEMNO", 24), C("DESC", 60), I("INACTIVE"), I("STOCKITEM"), C("STOCKUNIT", 10),
        C("DEFPRICLST", 6), D("UNITWGT", 19, 4), C("CATEGORY", 6), I("ALLOWONWEB"), _date("DATELASTMN")],
        indexes=("FMTITEMNO",)),
    _table("ICLOC", [C("LOCATION", 6)], [C("DESC", 60)]),
    _table("ICILOC", [C("ITEMNO", 24), C("LOCATION", 6)], [
        _qty("QTYONHAND"), _qty("QTYONORDER"), _qty("QTYSALORDR"), _qty("QTYSHNOCST"),
        _qty("QTYRENOCST"), _qty("QTYADNOCST"), _qty("QTYCOMMIT"), I("ACTIVE")]),
    _table("ARCUS", [C("IDCUST", 12)], [
        C("TEXTSNAM", 10), C("IDGRP", 6), I("SWACTV"), I("SWHOLD"), C("NAMECUST", 60),
        C("TEXTSTRE1", 60), C("TEXTSTRE2", 60), C("TEXTSTRE3", 60), C("TEXTSTRE4", 60),
        C("NAMECITY", 30), C("CODESTTE", 30), C("CODEPSTL", 20), C("CODECTRY", 30), C("NAMECTAC", 60),
        C("TEXTPHON1", 30), C("CODECURN", 3), C("EMAIL1", 50), C("EMAIL2", 50), I("SWCHKDUPPO"),
        _date("DATELASTMN"),
        # added for customers created by the hub (issue 6); create_schema adds them to an older database
        C("IDACCTSET", 6), C("CODETERM", 6), C("CODETAXGRP", 12)]),
    _table("OEORDH", [D("ORDUNIQ", 19, 0)], [
        C("ORDNUMBER", 22), C("CUSTOMER", 12),
        C("BILNAME", 60), C("BILADDR1", 60), C("BILADDR2", 60), C("BILCITY", 30), C("BILSTATE", 30),
        C("BILZIP", 20), C("BILCOUNTRY", 30),
        C("SHPNAME", 60), C("SHPADDR1", 60), C("SHPADDR2", 60), C("SHPCITY", 30), C("SHPSTATE", 30),
        C("SHPZIP", 20), C("SHPCOUNTRY", 30), C("SHPPHONE", 30), C("SHIPTO", 6),
        C("PONUMBER", 22), C("REFERENCE", 60), I("TYPE"), _date("ORDDATE"), _date("EXPDATE"),
        C("SHIPVIA", 6), C("VIADESC", 60), C("LOCATION", 6), I("ONHOLD"), C("DESC", 60),
        C("COMMENT", 250), C("ORSOURCURR", 3), I("COMPLETE"), _amt("INVDISCAMT"), _amt("TAMOUNT1"),
        _amt("INVNETWTX"), I("ORDERSOURC"), C("LASTINVNUM", 22),
        # added for full web orders (issue 6); create_schema adds them to an older database
        C("BILADDR3", 60), C("BILADDR4", 60), C("BILPHONE", 30), C("BILCONTACT", 60), C("BILEMAIL", 50),
        C("SHPADDR3", 60), C("SHPADDR4", 60), C("SHPCONTACT", 60), C("ORHOMECURR", 3), C("ORRATETYPE", 2),
        I("TAXOVERRD"), _amt("MISCTOTAL"), _amt("ITEMTOTAL")],
        unique=("ORDNUMBER",), indexes=("REFERENCE", "CUSTOMER")),
    _table("OEORDH1", [D("ORDUNIQ", 19, 0)], [C("SHPEMAIL", 50), C("SHIPTRACK", 36), I("NUMSHPMENT"),
                                              # added for the ERP -> store flows (issue 7)
                                              C("LASTSHINUM", 22), C("HOLDREASON", 60)]),
    _table("OEORDD", [D("ORDUNIQ", 19, 0), D("LINENUM", 9, 0)], [
        I("LINETYPE"), C("ITEM", 24), C("MISCCHARGE", 6), C("LOCATION", 6), C("DESC", 60),
        _qty("QTYORDERED"), _qty("QTYSHIPPED"), _qty("QTYBACKORD"), _qty("QTYCOMMIT"),
        D("UNITPRICE", 19, 6), I("PRICEOVER"), _amt("EXTINVMISC"), I("COMPLETE"),
        # added for shipments (issue 7): quantity shipped to date over every posted shipment
        _qty("QTYSHPTODT")]),
    _table("OESHIH", [D("SHIUNIQ", 19, 0)], [
        C("SHINUMBER", 22), D("ORDUNIQ", 19, 0), C("ORDNUMBER", 22), C("CUSTOMER", 12), C("PONUMBER", 22),
        C("REFERENCE", 60), _date("SHIDATE"), C("SHIPVIA", 6), C("VIADESC", 60), C("SHIPTRACK", 36),
        I("COMPLETE"), _amt("SHINETWTX")], unique=("SHINUMBER",), indexes=("ORDUNIQ",)),
    _table("OESHID", [D("SHIUNIQ", 19, 0), D("LINENUM", 9, 0)], [
        C("ITEM", 24), C("LOCATION", 6), _qty("QTYSHIPPED"), C("SHIUNIT", 10), D("UNITPRICE", 19, 6),
        C("ORDNUMBER", 22), D("ORDDTLNUM", 9, 0), C("SHIPTRACK", 36), I("COMPLETE")]),
    _table("ICPRICP", [C("CURRENCY", 3), C("ITEMNO", 24), C("PRICELIST", 6), I("DPRICETYPE"), C("QTYUNIT", 10),
                       C("WEIGHTUNIT", 10)], [
        D("UNITPRICE", 19, 6), D("CONVERSION", 19, 6), _date("SALESTART"), _date("SALEEND")]),
    _table("OEMISC", [C("MISCCHARGE", 6)], [C("DESC", 60)]),
    _table("OEVIA", [C("CODE", 6)], [C("NAME", 60)]),
]}

LINE_STEP = 32
ORDER_TABLES = ("OEORDD", "OEORDH1", "OEORDH")
SHIPMENT_TABLES = ("OESHID", "OESHIH")   # written by erp_driver.ship_order; cleared with the orders


from . import ledger_tables  # noqa: E402,F401 - registers the AR receipt, GL, BK and CS tables in SCHEMA
