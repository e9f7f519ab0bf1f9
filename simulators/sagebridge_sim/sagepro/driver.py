"""The ERP side of the Sage Pro simulator: what a clerk changes in Sage Pro's own screens (stock,
prices, items, customers, shipping an order), written through ODBC on a connection of its own, one
transaction per change, so the hub's change capture finds the rows a real workstation would leave.

Known (reference sage300_sagepro.md §3): somast `sono` char 10 left-padded, `sostat` '' = open,
`shipvia`, `sotrack` (tracking), `ponum`; sotran `sono`, `item`, `qtyord`, `sostat`; iciloc `item`,
`loctid`, `lonhand`; tables suffixed with the company id. Assumed (no Sage data dictionary is
public): the other column names (the connector's default layout), the status codes beyond '' (S
shipped, H on hold, C complete, X cancelled: the pair's `order_status_codes`), that shipping marks
the lines 'S' too and takes the shipped quantities off `lonhand` at the line's location (so change
capture sees the shipment, as a real shipment relieves stock), and that Sage Pro refuses to ship an
order on hold, shipped, complete or cancelled.

Every value in and out is a Decimal, date, bool or stripped text (values.py); a value that does not
fit its column is refused (`ErpError`), never truncated.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from .db import SageProDb
from .values import ValueRefused, decimal_for

OPEN, ON_HOLD, PARTIAL, SHIPPED, COMPLETE, CANCELLED = "", "H", "P", "S", "C", "X"
STATUSES = (OPEN, ON_HOLD, PARTIAL, SHIPPED, COMPLETE, CANCELLED)
SHIPPABLE = (OPEN, PARTIAL)


class ErpError(ValueError):
    """A change Sage Pro would refuse; `status` is what the HTTP route answers (400, 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


class SageProDriver:
    """Clerk-side changes on `db`; `location` is the default stock location (loctid)."""

    def __init__(self, db: SageProDb, location: str = "MAIN") -> None:
        self.db = db
        self.location = location

    # -- items, stock and prices -----------------------------------------------------------------
    def _item(self, cur, item: str) -> dict[str, Any]:
        row = self.db.one(cur, "item", {"item": item})
        if row is None:
            raise ErpError(f"no item {item!r} in {self.db.name('item')}", 404)
        return row

    def set_stock(self, item: str, on_hand: Decimal | str, location: str | None = None,
                  committed: Decimal | str | None = None) -> dict[str, Any]:
        """The on-hand count of an item at a location (an iciloc row made when it has none)."""
        return self.bulk_stock([(item, on_hand)], location, committed)[0]

    def adjust_stock(self, item: str, delta: Decimal | str, location: str | None = None) -> dict[str, Any]:
        """Adds `delta` (may be negative) to the on-hand count, read and written in one transaction."""
        loc = location or self.location
        with self.db.transaction() as cur:
            self._item(cur, item)
            row = self.db.one(cur, "item_location", {"item": item, "loctid": loc})
            current = row["on_hand"] if row else Decimal(0)
            return self._write_stock(cur, item, loc, current + self._qty(delta), None)

    def bulk_stock(self, changes: Iterable[tuple[str, Decimal | str]] | Mapping[str, Decimal | str],
                   location: str | None = None, committed: Decimal | str | None = None) -> list[dict[str, Any]]:
        """Many on-hand counts in ONE transaction (a stock count posted at once): [(item, on_hand)]."""
        pairs = list(changes.items()) if isinstance(changes, Mapping) else list(changes)
        loc = location or self.location
        with self.db.transaction() as cur:
            known = {r["item"] for r in self.db.select(cur, "item")} if len(pairs) > 20 else None
            out = []
            for item, qty in pairs:
                if known is None:
                    self._item(cur, item)
                elif item not in known:
                    raise ErpError(f"no item {item!r} in {self.db.name('item')}", 404)
                out.append(self._write_stock(cur, item, loc, self._qty(qty), committed))
            return out

    def _write_stock(self, cur, item: str, loc: str, on_hand: Decimal, committed: Any) -> dict[str, Any]:
        key = {"item": item, "loctid": loc}
        changes: dict[str, Any] = {"on_hand": self._fit("on_hand", on_hand)}
        if committed is not None and "committed" in self.db.table("item_location").columns:
            changes["committed"] = self._fit("committed", self._qty(committed))
        if self._update(cur, "item_location", key, changes) == 0:
            self._insert(cur, "item_location", {**key, **changes})
        return {**key, **changes}

    def set_price(self, item: str, price: Decimal | str, pcode: str | None = "WEB") -> dict[str, Any]:
        """A price code's price (icpric row, made when missing) or, with `pcode` None, the item's own
        price (icitem.price)."""
        with self.db.transaction() as cur:
            self._item(cur, item)
            if pcode is None:
                self._update(cur, "item", {"item": item}, {"price": price})
                return self.db.one(cur, "item", {"item": item})
            key = {"item": item, "pcode": pcode}
            if self._update(cur, "price", key, {"price": price}) == 0:
                self._insert(cur, "price", {**key, "price": price})
            return self.db.one(cur, "price", key)

    def add_item(self, item: str, descrip: str = "", price: Decimal | str = Decimal(0),
                 on_hand: Decimal | str | None = None, **fields: Any) -> dict[str, Any]:
        """A new icitem row (refused when the item exists), with a stock row when `on_hand` is given."""
        with self.db.transaction() as cur:
            if self.db.one(cur, "item", {"item": item}) is not None:
                raise ErpError(f"item {item!r} exists")
            self._insert(cur, "item", {"item": item, "descrip": descrip, "price": price, "status": "A", **fields})
            if on_hand is not None:
                self._write_stock(cur, item, self.location, self._qty(on_hand), None)
            return self.db.one(cur, "item", {"item": item})

    def set_item(self, item: str, /, **changes: Any) -> dict[str, Any]:
        """Changes icitem fields (descrip, status 'I' = inactive, category, price, weight)."""
        if "item" in changes:
            raise ErpError("an item number cannot be changed")
        with self.db.transaction() as cur:
            self._item(cur, item)
            self._update(cur, "item", {"item": item}, changes)
            return self.db.one(cur, "item", {"item": item})

    def delete_item(self, item: str) -> dict[str, int]:
        """The item with its stock and price rows, in one transaction: rows deleted per table."""
        with self.db.transaction() as cur:
            self._item(cur, item)
            return {t: self.db.delete(cur, t, {"item": item}) for t in ("item_location", "price", "item")}

    # -- customers ---------------------------------------------------------------------------------
    def add_customer(self, custno: str, /, **fields: Any) -> dict[str, Any]:
        with self.db.transaction() as cur:
            if self.db.one(cur, "customer", {"custno": custno}) is not None:
                raise ErpError(f"customer {custno!r} exists")
            self._insert(cur, "customer", {"custno": custno, "adddate": utc_today(), **fields})
            return self.db.one(cur, "customer", {"custno": custno})

    def edit_customer(self, custno: str, /, **changes: Any) -> dict[str, Any]:
        """Changes arcust fields (name, email, address...; never the customer number)."""
        if "custno" in changes:
            raise ErpError("a customer number cannot be changed")
        with self.db.transaction() as cur:
            if self._update(cur, "customer", {"custno": custno}, changes) == 0:
                raise ErpError(f"no customer {custno!r} in {self.db.name('customer')}", 404)
            return self.db.one(cur, "customer", {"custno": custno})

    # -- orders ------------------------------------------------------------------------------------
    def _header(self, cur, sono: str | None, ponum: str | None) -> dict[str, Any]:
        if not sono and not ponum:
            raise ErpError("sono or ponum is required")
        where = {"sono": sono} if sono else {self.db.layout.guard: ponum}
        rows = self.db.select(cur, "order_header", where)
        if not rows:
            raise ErpError(f"no order {sono or ponum!r} in {self.db.name('order_header')}", 404)
        return rows[0]

    def ship_order(self, sono: str | None = None, ponum: str | None = None, tracking: str = "",
                   shipvia: str | None = None, shipdate: date | str | None = None,
                   relieve_stock: bool = True) -> dict[str, Any]:
        """Ships a whole order: sostat S on the header and its lines, tracking, ship-via, ship date
        (today, UTC, when not given); the lines' quantities leave `lonhand`. Returns state_of_order."""
        with self.db.transaction() as cur:
            head = self._header(cur, sono, ponum)
            if head.get("sostat", OPEN) not in SHIPPABLE:
                raise ErpError(f"order {head['sono']} has status {head['sostat']!r}: it cannot be shipped")
            changes: dict[str, Any] = {"sostat": SHIPPED, "tracking": tracking,
                                       "shipdate": shipdate or utc_today()}
            if shipvia is not None:
                changes["shipvia"] = shipvia
            self._update(cur, "order_header", {"sono": head["sono"]}, self._known("order_header", changes))
            lines = self.db.select(cur, "order_line", {"sono": head["sono"]})
            if "sostat" in self.db.table("order_line").columns:
                self.db.update(cur, "order_line", {"sono": head["sono"]}, {"sostat": SHIPPED})
            if relieve_stock:
                self._relieve(cur, head, lines)
        return self.state_of_order(sono=head["sono"])

    def enter_order(self, custno: str, lines: Iterable[Mapping[str, Any]], ponum: str = "",
                    address: Mapping[str, Any] | None = None, **header: Any) -> dict[str, Any]:
        """An order keyed by a clerk in Sage Pro's order entry: the next number from the numbering
        row (compare-and-set, in the same transaction), header, ship-to, lines [{"item", "qtyord",
        "price", ...}]; ordamt = the lines' extended prices + tax + freight - discount when not given."""
        lines = [dict(line) for line in lines]
        with self.db.transaction() as cur:
            if self.db.one(cur, "customer", {"custno": custno}) is None:
                raise ErpError(f"no customer {custno!r} in {self.db.name('customer')}", 404)
            sono = self._take_number(cur)
            today = utc_today()
            for n, line in enumerate(lines, start=1):
                self._item(cur, str(line.get("item", "")))
                qty, price = self._qty(line.get("qtyord", 1)), self._qty(line.get("price", 0))
                line.update({"sono": sono, "tranlineno": n, "custno": custno, "qtyord": qty, "price": price,
                             "extprice": (qty * price).quantize(Decimal("0.01")), "ordate": today})
                line.setdefault("loctid", self.location)
            total = sum((line["extprice"] for line in lines), Decimal(0))
            extra = sum((self._qty(header.get(k, 0)) for k in ("tax", "freight")), Decimal(0))
            head = {"sono": sono, "custno": custno, self.db.layout.guard: ponum, "ordate": today,
                    "adddate": today, "loctid": self.location,
                    "ordamt": total + extra - self._qty(header.get("discount", 0)), **header}
            self._insert(cur, "order_header", self._known("order_header", head))
            self._insert(cur, "order_address", {"sono": sono, **(address or {})})
            for line in lines:
                self._insert(cur, "order_line", self._known("order_line", line))
        return self.state_of_order(sono=sono)

    def _take_number(self, cur) -> str:
        """The next sales order number: the numbering row moved from its last value, compare-and-set."""
        n = self.db.layout.numbering
        last = self.db.last_number(cur)
        digits = last.strip()[len(n.prefix):] or "0"
        new = n.format(int(digits) + 1) if n.type == "char" else int(digits) + 1
        where = "".join(f" AND {c} = ?" for c in n.where)
        cur.execute(f"UPDATE {n.physical(self.db.company)} SET {n.column} = ? WHERE {n.column} = ?{where}",
                    [new, last if n.type == "char" else int(digits)] + list(n.where.values()))
        if cur.rowcount != 1:
            raise ErpError("the numbering row moved under this order: enter it again", 409)
        return str(new).strip()

    def _relieve(self, cur, head: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        for line in lines:
            loc = line.get("loctid") or head.get("loctid") or self.location
            key = {"item": line["item"], "loctid": loc}
            row = self.db.one(cur, "item_location", key)
            if row is not None:                       # charge lines (HANDLING, MISC) hold no stock
                self._update(cur, "item_location", key, {"on_hand": row["on_hand"] - line["qtyord"]})

    def set_order_status(self, status: str, sono: str | None = None, ponum: str | None = None) -> dict[str, Any]:
        """Puts an order on hold (H), back open (''), complete (C) or cancelled (X)."""
        if status not in STATUSES:
            raise ErpError(f"status is one of {STATUSES}")
        with self.db.transaction() as cur:
            head = self._header(cur, sono, ponum)
            self.db.update(cur, "order_header", {"sono": head["sono"]}, {"sostat": status})
        return self.state_of_order(sono=head["sono"])

    def state_of_order(self, sono: str | None = None, ponum: str | None = None) -> dict[str, Any]:
        """{"header", "address" (None when the order has no ship-to row), "lines" (line order)}."""
        with self.db.transaction() as cur:
            head = self._header(cur, sono, ponum)
            address = self.db.one(cur, "order_address", {"sono": head["sono"]})
            lines = self.db.select(cur, "order_line", {"sono": head["sono"]})
        return {"header": head, "address": address, "lines": lines}

    def orders(self, ponum: str | None = None) -> list[dict[str, Any]]:
        """Order headers (those with one storefront reference when `ponum` is given), by sono."""
        with self.db.transaction() as cur:
            return self.db.select(cur, "order_header", {self.db.layout.guard: ponum} if ponum else None)

    # -- reading -----------------------------------------------------------------------------------
    def rows(self, logical: str, raw: bool = False, **where: Any) -> list[dict[str, Any]]:
        with self.db.transaction() as cur:
            return self.db.select(cur, logical, where, raw=raw)

    def counts(self) -> dict[str, Any]:
        """Rows per logical table and the numbering row's last number (stripped)."""
        with self.db.transaction() as cur:
            out: dict[str, Any] = {t: self.db.count(cur, t) for t in self.db.layout.tables}
            out["last_number"] = self.db.last_number(cur).strip()
        return out

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _qty(value: Any) -> Decimal:
        try:
            return value if isinstance(value, Decimal) else Decimal(str(value))
        except ArithmeticError:
            raise ErpError(f"{value!r} is not a quantity") from None

    def _fit(self, field: str, value: Decimal) -> Decimal:
        """An iciloc quantity at its column's scale (refused when it does not fit)."""
        try:
            return decimal_for(self.db.spec("item_location", field), value)
        except ValueRefused as e:
            raise ErpError(str(e)) from None

    def _known(self, logical: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Fields the site's layout has (a site without shipdate still gets its status and tracking)."""
        return {f: v for f, v in changes.items() if f in self.db.table(logical).columns}

    def _update(self, cur, logical: str, key: dict[str, Any], changes: Mapping[str, Any]) -> int:
        try:
            return self.db.update(cur, logical, key, changes)
        except (ValueRefused, KeyError) as e:
            raise ErpError(str(e).strip('"')) from None

    def _insert(self, cur, logical: str, values: Mapping[str, Any]) -> None:
        try:
            self.db.insert(cur, logical, values)
        except (ValueRefused, KeyError) as e:
            raise ErpError(str(e).strip('"')) from None

