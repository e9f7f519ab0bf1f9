"""One company's data: records per object, numbering, the uniqueid memory, the transaction counter.

All access goes through `lock` (the gateway handles one function at a time per company under it).
- uniqueid (intacct.md §3, §6 "not confirmed"): the simulator remembers every function controlid
  that COMPLETED SUCCESSFULLY, for the life of the process (until `/_sim/reset`); a failed function
  leaves no trace, so its controlid may be used again.
- Transactions (intacct.md §5 [RKL]): one per function executed, success or failure, reads included.
- readByQuery snapshots (`results`): the rendered rows as they were at readByQuery time; the
  lifetime of a resultId is not confirmed (intacct.md §6): the sim keeps it until its last page.
"""
from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .objects import DEFINITIONS, SCHEMAS
from .values import CompanyClock


@dataclass
class Snapshot:
    object: str
    rows: list[dict[str, Any]]         # flat records, already cut to the selected fields
    fields: list[str]
    offset: int
    pagesize: int


@dataclass
class Reference:
    """The seeded lists writes validate against (contract §2)."""
    warehouses: set[str] = field(default_factory=set)
    terms: set[str] = field(default_factory=set)
    ship_methods: set[str] = field(default_factory=set)
    checking_accounts: set[str] = field(default_factory=set)
    journals: set[str] = field(default_factory=set)


class CompanyState:
    def __init__(self, company_id: str, clock: CompanyClock) -> None:
        self.company_id = company_id
        self.clock = clock
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.records: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in SCHEMAS}
            self.documents: dict[str, dict[str, Any]] = {}        # DOCID -> full document incl. lines
            self.glentries: dict[int, list[dict[str, Any]]] = {}   # GLBATCH RECORDNO -> entries
            self.payment_details: dict[int, list[dict[str, Any]]] = {}
            self.adjustment_lines: dict[int, list[dict[str, Any]]] = {}
            self.ref = Reference()
            self._recordno = {name: itertools.count(1) for name in SCHEMAS}
            self._docno = {definition: itertools.count(1) for definition in DEFINITIONS}
            self.completed_controlids: set[str] = set()
            self.transactions: Counter[str] = Counter()
            self.results: dict[str, Snapshot] = {}
            self._result_seq = itertools.count(1)

    # -- records -----------------------------------------------------------------------------
    def insert(self, obj: str, values: dict[str, Any]) -> dict[str, Any]:
        recordno = next(self._recordno[obj])
        row = {"RECORDNO": recordno, **values, "WHENMODIFIED": self.clock.now()}
        self.records[obj][recordno] = row
        return row

    def touch(self, row: dict[str, Any], **changes: Any) -> dict[str, Any]:
        row.update(changes)
        row["WHENMODIFIED"] = self.clock.now()
        return row

    def find(self, obj: str, **match: Any) -> list[dict[str, Any]]:
        return [r for r in self.records[obj].values() if all(r.get(k) == v for k, v in match.items())]

    def one(self, obj: str, **match: Any) -> dict[str, Any] | None:
        rows = self.find(obj, **match)
        return rows[0] if rows else None

    def next_docno(self, definition: str) -> str:
        return f"{DEFINITIONS[definition]}-{next(self._docno[definition]):05d}"

    # -- counters ----------------------------------------------------------------------------
    def count(self, function: str) -> None:
        self.transactions[function] += 1

    def transactions_view(self) -> dict[str, Any]:
        return {"total": sum(self.transactions.values()), "by_function": dict(self.transactions)}

    def new_result(self, snap: Snapshot) -> str:
        result_id = f"{next(self._result_seq)}-{datetime.now().strftime('%H%M%S')}-rbq"
        self.results[result_id] = snap
        return result_id

    def view(self) -> dict[str, Any]:
        """Everything, for `/_sim/state` (values rendered as on the wire)."""
        from .values import render
        with self.lock:
            def flat(row):
                return {k: render(v, self.clock) for k, v in row.items()}
            docs = {docid: {**{k: (render(v, self.clock) if not isinstance(v, (list, dict)) else copy.deepcopy(v))
                               for k, v in doc.items()}} for docid, doc in self.documents.items()}
            return {"company_id": self.company_id, "time_zone": self.clock.tz_name,
                    "objects": {obj: [flat(r) for r in rows.values()] for obj, rows in self.records.items()},
                    "documents": docs,
                    "glentries": {str(k): v for k, v in self.glentries.items()},
                    "payment_details": {str(k): v for k, v in self.payment_details.items()},
                    "adjustment_lines": {str(k): v for k, v in self.adjustment_lines.items()},
                    "reference": {k: sorted(v) for k, v in vars(self.ref).items()},
                    "completed_controlids": sorted(self.completed_controlids),
                    "transactions": self.transactions_view()}
