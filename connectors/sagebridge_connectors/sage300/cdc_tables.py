"""The Sage 300 tables change capture reads, their keys and the columns it emits (issue 7 contract).

Types follow the Application Object Model as the reference gives them (§2.1, §2.2): String*n is
CHAR(n), space-padded (right-trimmed on read); BCD*b.d is DECIMAL(2b-1, d): quantities (19,4), prices
(19,6), amounts (19,3), uniquifiers (19,0); dates DECIMAL(9,0) YYYYMMDD, times HHMMSShh; Integer and
Boolean SMALLINT. Every table has AUDTDATE/AUDTTIME/AUDTUSER (and AUDTORG) after its key.

`entity` is the column whose value keys the event in Kafka, so rows the transform combines share a
partition: an item's ICITEM, ICILOC and ICPRICP rows by ITEMNO, an order's OEORDH and OEORDH1 by
ORDUNIQ, a shipment's OESHIH and OESHID by SHIUNIQ.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Column:
    name: str
    kind: str           # "C" CHAR, "D" DECIMAL, "I" SMALLINT
    scale: int = 0


def C(name: str) -> Column:
    return Column(name, "C")


def D(name: str, scale: int) -> Column:
    return Column(name, "D", scale)


def I(name: str) -> Column:  # noqa: E743 - SMALLINT
    return Column(name, "I")


def Q(name: str) -> Column:  # quantity BCD*10.4
    return D(name, 4)


def N(name: str) -> Column:  # uniquifier, line number, date: DECIMAL(x, 0)
    return D(name, 0)


AUDIT = (N("AUDTDATE"), N("AUDTTIME"), C("AUDTUSER"))


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    entity: str
    columns: tuple[Column, ...]          # key columns first

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _spec(name: str, key: tuple[Column, ...], entity: str, rest: tuple[Column, ...]) -> TableSpec:
    return TableSpec(name, tuple(c.name for c in key), entity, key + AUDIT + rest)


TABLES: dict[str, TableSpec] = {t.name: t for t in (
    _spec("ICITEM", (C("ITEMNO"),), "ITEMNO", (
        C("FMTITEMNO"), C("DESC"), I("INACTIVE"), I("ALLOWONWEB"), C("CATEGORY"), Q("UNITWGT"), C("STOCKUNIT"),
        C("DEFPRICLST"))),
    _spec("ICILOC", (C("ITEMNO"), C("LOCATION")), "ITEMNO", (
        Q("QTYONHAND"), Q("QTYRENOCST"), Q("QTYADNOCST"), Q("QTYSHNOCST"), Q("QTYCOMMIT"), Q("QTYSALORDR"),
        I("ACTIVE"))),
    _spec("ICPRICP", (C("CURRENCY"), C("ITEMNO"), C("PRICELIST"), I("DPRICETYPE"), C("QTYUNIT"), C("WEIGHTUNIT")),
          "ITEMNO", (D("UNITPRICE", 6), N("SALESTART"), N("SALEEND"))),
    _spec("ARCUS", (C("IDCUST"),), "IDCUST", (
        C("NAMECUST"), C("TEXTSTRE1"), C("TEXTSTRE2"), C("TEXTSTRE3"), C("TEXTSTRE4"), C("NAMECITY"),
        C("CODESTTE"), C("CODEPSTL"), C("CODECTRY"), C("NAMECTAC"), C("TEXTPHON1"), C("EMAIL1"), C("EMAIL2"),
        I("SWACTV"), I("SWHOLD"))),
    _spec("OEORDH", (N("ORDUNIQ"),), "ORDUNIQ", (
        C("ORDNUMBER"), C("CUSTOMER"), C("REFERENCE"), C("PONUMBER"), I("TYPE"), I("ONHOLD"), I("COMPLETE"),
        C("LASTINVNUM"), N("ORDDATE"), C("SHIPVIA"), C("VIADESC"))),
    _spec("OEORDH1", (N("ORDUNIQ"),), "ORDUNIQ", (
        C("SHIPTRACK"), I("NUMSHPMENT"), C("LASTSHINUM"), C("HOLDREASON"))),
    _spec("OESHIH", (N("SHIUNIQ"),), "SHIUNIQ", (
        C("SHINUMBER"), N("ORDUNIQ"), C("ORDNUMBER"), C("CUSTOMER"), C("PONUMBER"), C("REFERENCE"), N("SHIDATE"),
        C("SHIPVIA"), C("VIADESC"), C("SHIPTRACK"), I("COMPLETE"))),
    _spec("OESHID", (N("SHIUNIQ"), N("LINENUM")), "SHIUNIQ", (
        C("ITEM"), C("LOCATION"), Q("QTYSHIPPED"), C("SHIUNIT"), C("ORDNUMBER"), C("SHIPTRACK"))),
)}

_INT_COLUMNS = {"AUDTDATE", "AUDTTIME"}     # the contract emits the audit stamps as ints


def converter(specs: dict[str, TableSpec] | None = None):
    """`convert(column, value)`: CHAR right-trimmed, DECIMAL as a string at the column's scale
    ("12.5000", never a float), DECIMAL(x,0) keys and dates as integer strings, audit stamps and
    SMALLINT as ints. Column names mean the same in every Sage table, so one map serves all."""
    kinds: dict[str, Column] = {}
    for spec in (specs or TABLES).values():
        for col in spec.columns:
            kinds.setdefault(col.name, col)

    def convert(name: str, value: Any) -> Any:
        col = kinds[name]
        if col.kind == "C":
            return (value or "").rstrip()
        if col.kind == "I" or name in _INT_COLUMNS:
            return int(Decimal(str(value or 0)))
        number = Decimal(str(value if value is not None else 0))
        return str(number.quantize(Decimal(1).scaleb(-col.scale)))
    return convert
