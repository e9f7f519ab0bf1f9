"""The next sales order number, and the write lock every document transaction takes first.

Sage Pro keeps the last number used in one row (layout `numbering`: sosyst{co}.lastsono by
default, char 10 left-padded like sono; reference sage300_sagepro.md §3). Taking a number is a
compare-and-set inside the document's transaction: `UPDATE ... SET lastsono = <next> WHERE
lastsono = <read>`. The row lock it takes is held to the commit, so two writers (or Sage Pro's own
order entry, which increments the same row) never hand out one number twice, and the guard read
after it sees every order committed before. An update that matches no row means someone took the
number between our read and our update: read again.

Customers take the same row's lock without changing it (`SET lastsono = lastsono`): creating one
arcust row per e-mail needs one writer at a time, and Sage Pro has no unique index to refuse a
second row (none documented), so this row is the only lock every writer shares.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sagebridge_common.errors import PermanentError, TransientError

from .layout import Numbering
from .transactions import Tx

CAS_TRIES = 20


class NumberRow:
    def __init__(self, numbering: Numbering, company: str) -> None:
        self.n = numbering
        self.table = numbering.physical(company)
        self._where = "".join(f" AND {col} = ?" for col in numbering.where)
        self._where_params = list(numbering.where.values())
        self.context = f"{self.table}.{numbering.column}"

    def _condition(self, first: str) -> str:
        rest = self._where
        if first:
            return f" WHERE {first}{rest}"
        return f" WHERE {rest[5:]}" if rest else ""

    def lock(self, tx: Tx) -> None:
        """Hold the numbering row's lock to the end of the transaction, changing nothing."""
        col = self.n.column
        cur = tx.execute(f"UPDATE {self.table} SET {col} = {col}{self._condition('')}", self._where_params,
                         self.context)
        self._one(cur.rowcount)

    def take(self, tx: Tx) -> str:
        """The next number, formatted (`Numbering.format`), locked to this transaction."""
        col = self.n.column
        for _ in range(CAS_TRIES):
            rows = tx.fetchall(f"SELECT {col} FROM {self.table}{self._condition('')}", self._where_params,
                               self.context)
            self._one(len(rows))
            current = rows[0][0]
            new: Any = self.n.format(self._parse(current) + 1) if self.n.type == "char" else self._parse(current) + 1
            cur = tx.execute(f"UPDATE {self.table} SET {col} = ?{self._condition(f'{col} = ?')}",
                             [new, current, *self._where_params], self.context)
            if cur.rowcount == 1:
                return new if isinstance(new, str) else self.n.format(new)
        raise TransientError(f"the order number in {self.context} kept changing under {CAS_TRIES} tries",
                             reason="sagepro_numbering_contended")

    def _parse(self, value: Any) -> int:
        text = "" if value is None else str(value).strip()
        if self.n.prefix and text.startswith(self.n.prefix):
            text = text[len(self.n.prefix):]
        fill = self.n.fill + " "
        text = (text.lstrip(fill) if self.n.pad == "left" else text.rstrip(fill)) or "0"
        try:
            return int(Decimal(text))
        except (ArithmeticError, ValueError):
            raise PermanentError(f"{self.context} holds {value!r}, not a number (numbering.prefix "
                                 f"{self.n.prefix!r})", reason="sagepro_numbering_unreadable") from None

    def _one(self, count: int) -> None:
        if count == 0:
            raise PermanentError(f"{self.table} has no numbering row{' matching numbering.where' if self._where else ''}",
                                 reason="sagepro_numbering_missing")
        if count > 1:
            raise PermanentError(f"{self.table} has {count} numbering rows; set erp.layout.numbering.where to pick one",
                                 reason="sagepro_numbering_ambiguous")
