"""A stand-in for IntacctGateway's read side, as strict as the contract (issue 9 §1): records kept
per (object, docparid) with company-local WHENMODIFIED text; `read_by_query` accepts only the
`WHENMODIFIED >= '<mm/dd/yyyy HH:MM:SS>'` queries capture sends (anything else: ValueError, as the
simulator answers "Query Failed"), refuses a field it does not know, takes a snapshot when called
(readByQuery) and yields it in RECORDNO order, `pagesize` rows per page (readMore), each page one
transaction. `between_pages` lets a test change records while a scan is being paged."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest

LITERAL = "%m/%d/%Y %H:%M:%S"
QUERY = re.compile(r"^WHENMODIFIED >= '(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)'$")
ZONE = ZoneInfo("America/Los_Angeles")
KNOWN = {
    ("ITEM", None): {"RECORDNO", "ITEMID", "NAME", "STATUS", "ITEMTYPE", "BASEPRICE", "EXTENDED_DESCRIPTION",
                     "PRODUCTLINEID", "WHENMODIFIED"},
    ("ITEMWAREHOUSEINFO", None): {"RECORDNO", "ITEMID", "WAREHOUSEID", "QTYONHAND", "QTYONHOLD", "QTYONORDER",
                                  "WHENMODIFIED"},
    ("SODOCUMENT", "*"): {"RECORDNO", "DOCID", "DOCNO", "DOCPARID", "CUSTVENDID", "REFERENCENO", "STATE", "TOTAL",
                          "SUBTOTAL", "CURRENCY", "WHENCREATED", "WHENMODIFIED", "CREATEDFROM", "TRACKINGNUMBER",
                          "SHIPVIAKEY", "MESSAGE"},
}


def local(dt: datetime) -> str:
    """A UTC datetime as the company writes WHENMODIFIED."""
    return dt.astimezone(ZONE).strftime(LITERAL)


class FakeGateway:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str | None], dict[int, dict[str, str]]] = {}
        self.calls: list[dict] = []           # one per readByQuery
        self.transactions = 0                 # readByQuery + readMore
        self.between_pages: Callable[[int], None] | None = None
        self.up = True
        self.fail_next: Exception | None = None

    def put(self, obj: str, recordno: int, *, docparid: str | None = None, **fields: str) -> None:
        self.records.setdefault((obj, docparid), {})[recordno] = {"RECORDNO": str(recordno), **fields}

    def read_by_query(self, obj, fields, query, *, pagesize=1000, docparid=None, purpose="capture") -> Iterator[list[dict[str, str]]]:
        self.calls.append({"obj": obj, "fields": tuple(fields), "query": query, "pagesize": pagesize,
                           "docparid": docparid, "purpose": purpose})
        known = KNOWN[(obj, "*" if obj == "SODOCUMENT" else None)]
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise ValueError(f"Invalid fields list {unknown[0]}")
        m = QUERY.match(query)
        if m is None:
            raise ValueError("Query Failed")
        if not 1 <= pagesize <= 1000:
            raise ValueError("pagesize")
        if self.fail_next is not None:
            e, self.fail_next = self.fail_next, None
            self.transactions += 1
            raise e
        bound = datetime.strptime(m.group(1), LITERAL)
        rows = self.records.get((obj, docparid), {})
        snapshot = [{f: r.get(f, "") for f in fields} for _n, r in sorted(rows.items())
                    if datetime.strptime(r["WHENMODIFIED"], LITERAL) >= bound]
        return self._pages(snapshot, pagesize)

    def _pages(self, snapshot, pagesize):
        page = 0
        while True:
            self.transactions += 1
            chunk, snapshot = snapshot[:pagesize], snapshot[pagesize:]
            yield chunk
            if not snapshot:
                return
            page += 1
            if self.between_pages is not None:
                self.between_pages(page)

    def ping(self) -> tuple[bool, str]:
        if not self.up:
            raise ConnectionError("down")
        return True, "Intacct reachable"


@pytest.fixture(autouse=True)
def clean_faults():
    """Overrides conftest's Sage 300 fixture: these tests need no Sage 300 simulator."""
    yield


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()
