"""The objects the simulator serves and their fields (issue-9 contract §2).

Records are flat dicts keyed by dotted names (`DISPLAYCONTACT.MAILADDRESS.CITY`); the wire nests
them again (intacct.md §2: lowercase object element, UPPERCASE fields). Field types decide how a
query literal compares: datetime / date / number / text (intacct.md §4 "Reading changes").
"""
from __future__ import annotations

from dataclasses import dataclass, field

MAIL = ["ADDRESS1", "ADDRESS2", "CITY", "STATE", "ZIP", "COUNTRY", "ISOCOUNTRYCODE"]
CONTACT = ["CONTACTNAME", "PRINTAS", "COMPANYNAME", "FIRSTNAME", "LASTNAME", "PHONE1", "EMAIL1", "EMAIL2"]


@dataclass(frozen=True)
class ObjectSchema:
    name: str                       # CUSTOMER
    fields: tuple[str, ...]         # readable, in output order
    datetimes: frozenset[str] = frozenset({"WHENMODIFIED"})
    dates: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset({"RECORDNO"})
    id_field: str = "RECORDNO"
    extra: dict = field(default_factory=dict)

    @property
    def listtype(self) -> str:
        return self.name.lower()

    def kind(self, name: str) -> str:
        if name in self.datetimes:
            return "datetime"
        if name in self.dates:
            return "date"
        if name in self.numbers:
            return "number"
        return "text"

    def expand(self, name: str) -> list[str] | None:
        """A `fields` entry -> the dotted fields it selects (a group selects its members); None = unknown."""
        if name in self.fields:
            return [name]
        members = [f for f in self.fields if f.startswith(name + ".")]
        return members or None


def _schema(name: str, fields: list[str], **kw) -> ObjectSchema:
    return ObjectSchema(name, tuple(fields), **{k: frozenset(v) if isinstance(v, (set, list)) else v
                                               for k, v in kw.items()})


SCHEMAS: dict[str, ObjectSchema] = {s.name: s for s in [
    _schema("CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "CUSTTYPE", "TERMNAME", "CURRENCY"]
            + [f"DISPLAYCONTACT.{c}" for c in CONTACT] + [f"DISPLAYCONTACT.MAILADDRESS.{m}" for m in MAIL]
            + ["WHENMODIFIED"], id_field="CUSTOMERID"),
    _schema("ITEM", ["RECORDNO", "ITEMID", "NAME", "STATUS", "ITEMTYPE", "BASEPRICE", "EXTENDED_DESCRIPTION",
                     "PRODUCTLINEID", "WHENMODIFIED"], numbers={"RECORDNO", "BASEPRICE"}, id_field="ITEMID"),
    _schema("ITEMWAREHOUSEINFO", ["RECORDNO", "ITEMID", "WAREHOUSEID", "QTYONHAND", "QTYONHOLD", "QTYONORDER",
                                  "WHENMODIFIED"], numbers={"RECORDNO", "QTYONHAND", "QTYONHOLD", "QTYONORDER"}),
    _schema("SODOCUMENT", ["RECORDNO", "DOCID", "DOCNO", "DOCPARID", "CUSTVENDID", "REFERENCENO", "STATE", "TOTAL",
                           "SUBTOTAL", "CURRENCY", "WHENCREATED", "WHENMODIFIED", "CREATEDFROM", "TRACKINGNUMBER",
                           "SHIPVIAKEY", "MESSAGE"], dates={"WHENCREATED"},
            numbers={"RECORDNO", "TOTAL", "SUBTOTAL"}, id_field="DOCID"),
    _schema("ARINVOICE", ["RECORDNO", "CUSTOMERID", "DOCNUMBER", "TOTALDUE", "TOTALENTERED", "STATE",
                          "WHENMODIFIED"], numbers={"RECORDNO", "TOTALDUE", "TOTALENTERED"}),
    _schema("ARPYMT", ["RECORDNO", "CUSTOMERID", "DOCNUMBER", "TRX_PAYMENTAMOUNT", "FINANCIALENTITY",
                       "PAYMENTMETHOD", "STATE", "DESCRIPTION", "RECEIPTDATE", "PAYMENTDATE", "CURRENCY",
                       "WHENMODIFIED"], dates={"RECEIPTDATE", "PAYMENTDATE"},
            numbers={"RECORDNO", "TRX_PAYMENTAMOUNT"}),
    _schema("GLBATCH", ["RECORDNO", "JOURNAL", "BATCH_DATE", "BATCH_TITLE", "REFERENCENO", "STATE",
                        "WHENMODIFIED"], dates={"BATCH_DATE"}),
    _schema("ARADJUSTMENT", ["RECORDNO", "CUSTOMERID", "RECORDID", "DESCRIPTION", "TOTALENTERED", "WHENCREATED",
                             "WHENMODIFIED"], dates={"WHENCREATED"}, numbers={"RECORDNO", "TOTALENTERED"}),
]}

# Seeded reference lists the writes validate against (contract §2).
PAYMENT_METHODS = ("Printed Check", "Cash", "EFT", "Credit Card", "Online Charge Card", "Record Transfer")
# Transaction definitions -> document number prefix (the sim's numbering: `SO-00001`).
DEFINITIONS = {"Sales Order": "SO", "Shipper": "SH", "Sales Invoice": "INV"}
CURRENCIES = ("USD", "CAD", "EUR", "GBP")
