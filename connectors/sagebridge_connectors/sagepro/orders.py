"""A canonical order becomes exactly one Sage Pro sales order: somast + soaddr + sotran rows in one
database transaction guarded by the storefront reference (issue 10 contract, reference
sage300_sagepro.md §3):

1. guard fast path, its own short read: `SELECT sono, ponum FROM somast WHERE ponum = ?`; found ->
   already_present, no lock taken (a redelivery costs one read);
2. the write lock and the number: the numbering row's compare-and-set (`numbering.py`);
3. the guard again, inside the transaction and after the lock: a writer that waited for the lock
   now sees the order the lock holder committed -> rollback, already_present with its sono;
4. the header, the ship-to and the lines (one executemany);
5. commit. Any error before it rolls everything back: never a header without its lines.

The guard compares the reference in Python too: Visual FoxPro compares strings only up to the
shorter one's length unless SET ANSI is on, so `ponum = 'XP1-10'` may also find `XP1-1001`.

Every value is fitted to its column before the transaction starts (`values.py`), so a width
violation is refused (PermanentError `sagepro_width`) without a statement sent. A currency other
than the pair's is refused too (`sagepro_currency_not_held`: a Sage Pro company keeps one
currency). After the commit, the written rows' sum (lines + freight - discount + the store's tax)
is compared with the store's total (±0.01): a difference is `created_with_mismatch` and
`sagebridge_erp_total_mismatch_total`, as for Sage 300.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError, StartRefused

from ..sage300.documents import local_date
from . import order_rows
from .layout import Layout
from .numbering import NumberRow
from .transactions import Transactions, Tx
from .values import RowBuilder

log = logging.getLogger(__name__)
TOLERANCE = Decimal("0.01")
ZERO = Decimal(0)


class OrderWriter:
    def __init__(self, pair: Any, layout: Layout, transactions: Transactions, numbers: NumberRow, mismatches: Any,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.pair, self.tx, self.numbers, self._mismatches, self._clock = pair, transactions, numbers, mismatches, clock
        company = pair.erp.company
        self.header = RowBuilder(layout.table("order_header"), company, "order_header")
        self.address = RowBuilder(layout.table("order_address"), company, "order_address")
        self.lines = RowBuilder(layout.table("order_line"), company, "order_line")
        self.guard = layout.guard
        order_rows.check_charge_rules(pair.mapping.order_charges, layout)
        sono_width = self.header.table.columns["sono"].width or 0
        if layout.numbering.width > sono_width:
            raise StartRefused(f"erp.layout.numbering.width {layout.numbering.width} is wider than somast sono "
                               f"({sono_width} characters): order numbers would not fit", reason="sagepro_numbering_width")

    # -- the contract ------------------------------------------------------------------------
    def ensure(self, order: dict[str, Any]) -> WriteOutcome:
        if order["currency"] != self.pair.currency:
            raise PermanentError(f"order {order['order_number']} is in {order['currency']}; this Sage Pro company "
                                 f"keeps {self.pair.currency} (the pair's currency)", reason="sagepro_currency_not_held")
        if not (order["customer"].get("erp_customer_id") or "").strip():
            raise PermanentError(f"order {order['order_number']} has no ERP customer (erp_writer resolves it before "
                                 "the order)", reason="sagepro_order_without_customer")
        reference = self.pair.reference(order["order_number"])
        ponum = self.header.value(self.guard, reference)
        header, address, lines, expected = self._rows(order, reference)
        found = self.tx.run(lambda tx: self._find(tx, ponum, reference, discard=True), reference)
        if found:
            return WriteOutcome("already_present", found)
        number, created = self.tx.run(lambda tx: self._write(tx, ponum, reference, header, address, lines), reference)
        if not created:
            return WriteOutcome("already_present", number)
        return self._checked_total(order, number, header, lines, expected)

    # -- steps -------------------------------------------------------------------------------
    def _rows(self, order: dict, reference: str) -> tuple[dict, dict | None, list[dict], Decimal]:
        now = self._clock().astimezone(self.pair.zone)
        rows = order_rows.build(order, self.pair, reference=reference,
                                order_date=local_date(self.pair, order["ordered_at"]), now_local=now)
        header = self.header.row(rows.header)
        address = self.address.row(rows.address) if rows.address else None
        lines = [self.lines.row(line) for line in rows.lines]
        return header, address, lines, rows.store_tax

    def _find(self, tx: Tx, ponum: str, reference: str, *, discard: bool = False) -> str | None:
        sono, guard = self.header.column("sono"), self.header.column(self.guard)
        rows = tx.fetchall(f"SELECT {sono}, {guard} FROM {self.header.name} WHERE {guard} = ? ORDER BY {sono}",
                           [ponum], f"{self.header.name}.{guard}")
        if discard:
            tx.discard()
        mine = [str(r[0]).strip() for r in rows if str(r[1] or "").strip() == reference]
        if len(mine) > 1:
            log.error("Sage Pro holds more than one order with this reference", extra={"reference": reference,
                                                                                       "orders": mine})
        return mine[0] if mine else None

    def _write(self, tx: Tx, ponum: str, reference: str, header: dict, address: dict | None,
               lines: list[dict]) -> tuple[str, bool]:
        sono = self.numbers.take(tx)
        found = self._find(tx, ponum, reference)
        if found:
            tx.discard()                     # the number goes back with the rollback
            return found, False
        padded = self.header.value("sono", sono)
        self._insert(tx, self.header, {self.header.column("sono"): padded, **header})
        if address is not None and len(address) > 0:
            self._insert(tx, self.address, {self.address.column("sono"): self.address.value("sono", sono), **address})
        line_sono = self.lines.value("sono", sono)
        rows = [{self.lines.column("sono"): line_sono, **line} for line in lines]
        columns = list(dict.fromkeys(c for row in rows for c in row))
        tx.executemany(self.lines.insert_sql(columns), [[row.get(c) for c in columns] for row in rows],
                       self.lines.name)
        return sono.strip(), True

    @staticmethod
    def _insert(tx: Tx, builder: RowBuilder, row: dict) -> None:
        tx.execute(builder.insert_sql(list(row)), list(row.values()), builder.name)

    def _checked_total(self, order: dict, number: str, header: dict, lines: list[dict],
                       store_tax: Decimal) -> WriteOutcome:
        def written(builder: RowBuilder, row: dict, field: str) -> Decimal:
            return row.get(builder.column(field), ZERO) if builder.has(field) else ZERO
        computed = (sum((written(self.lines, line, "extprice") for line in lines), ZERO)
                    + written(self.header, header, "freight") - written(self.header, header, "discount") + store_tax)
        store_total: Decimal = order["total"]
        if abs(computed - store_total) <= TOLERANCE:
            return WriteOutcome("created", number)
        shown = format(computed, "f")
        self._mismatches.inc()
        log.warning("Sage Pro order rows do not add up to the store total",
                    extra={"order_number": order["order_number"], "erp_document": number, "erp_total": shown,
                           "store_total": format(store_total, "f")})
        return WriteOutcome("created_with_mismatch", number,
                            f"Sage Pro order {number}: lines + freight - discount + tax = {shown}, the store total is "
                            f"{format(store_total, 'f')} (tolerance {TOLERANCE})",
                            {"erp_total": shown, "store_total": format(store_total, "f")})
