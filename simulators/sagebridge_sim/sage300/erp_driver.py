"""The ERP side of the Sage 300 simulator: changes a clerk makes in Sage's own screens, written the way
Sage's Views write them, so the hub's change capture (erp_cdc) sees the rows real Sage would leave.

Why a driver: the Web API simulator only covers what the hub writes (orders, customers, batches). The
ERP -> store flows (stock, prices, items, shipments, order status, customer edits) start with changes
made inside Sage; tests and the dev stack make them here (Python) or over `/_sim/erp/...` (erp_routes).

Every operation is one database transaction and every row it writes is stamped AUDTDATE/AUDTTIME (the
Views stamp each saved row; reference sage300_sagepro.md §2.1), on the server's clock
(`Sage300Database.time_zone`). `frozen_clock()` gives every row written inside a block one stamp.

Facts followed (reference sage300_sagepro.md):
- §2.2 ICILOC: live on-hand = QTYONHAND + QTYRENOCST + QTYADNOCST - QTYSHNOCST; a shipment adds to
  QTYSHNOCST (shipped, not yet costed) and gives back QTYCOMMIT and QTYSALORDR; a receipt adds to
  QTYRENOCST, an adjustment to QTYADNOCST (QTYONHAND is the last day end's figure: never touched here).
- §2.2 ICITEM/ICILOC/ICPRICP key on the unformatted ITEMNO; OEORDD.ITEM holds the formatted number
  (`db.unformat_item` links them). ICPRICP key CURRENCY+ITEMNO+PRICELIST+DPRICETYPE(1 base, 2 sale)+
  QTYUNIT+WEIGHTUNIT.
- §2.2 OESHIH/OESHID: SHINUMBER, ORDUNIQ, ORDNUMBER, CUSTOMER, PONUMBER, REFERENCE, SHIDATE, SHIPVIA/VIADESC,
  SHIPTRACK char(36); OESHID ITEM, LOCATION, QTYSHIPPED, SHIUNIT, ORDNUMBER, ORDDTLNUM, SHIPTRACK.
  OEORDH1 SHIPTRACK, NUMSHPMENT, LASTSHINUM, HOLDREASON.
- §2.2/§4 codes: OEORDH.COMPLETE 1 = Incomplete/Not Included, 3 = Complete/Not Included; OEORDD.COMPLETE
  0 = not completed, 2 = completed; OEORDH.TYPE 4 = quote; ONHOLD 0/1. Line status from QTYSHPTODT vs
  QTYORDERED.
Strictness: a quote, an order on hold or a complete order cannot be shipped; shipping more than a line's
outstanding quantity, an unknown ship-via code, an unknown item or customer are refused (ErpError),
as Sage's Views refuse them.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator, Mapping

import pyodbc

from .db import AUDIT, LINE_STEP, SCHEMA, Sage300Database, unformat_item, zone_named

ZERO = Decimal(0)
OPEN_ORDER, COMPLETE_ORDER = 1, 3          # OEORDH.COMPLETE
LINE_OPEN, LINE_COMPLETE = 0, 2            # OEORDD.COMPLETE
QUOTE = 4                                  # OEORDH.TYPE
PROTECTED = {c.name for c in AUDIT}


class ErpError(ValueError):
    """A change Sage would refuse. `status` is the HTTP status the admin route answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ErpDriver:
    """Changes the company as Sage's Views would. `user` fills AUDTUSER (a clerk, not the hub's Web API
    user, so the hub does not take the change for its own write)."""

    def __init__(self, db: Sage300Database, user: str = "ADMIN") -> None:
        self.db = db
        self.user = user

    # ----- clock ---------------------------------------------------------------------------------
    @contextmanager
    def frozen_clock(self, at: datetime | tuple[int, int] | None = None) -> Iterator[tuple[int, int]]:
        """Every row written inside the block carries the same (AUDTDATE, AUDTTIME), yielded."""
        with self.db.frozen_stamp(at) as stamp:
            yield stamp

    def set_time_zone(self, name: str | None) -> None:
        """Stamp on a clock in this IANA zone from now on (None / "UTC" = UTC, the default)."""
        self.db.time_zone = zone_named(name)

    # ----- orders --------------------------------------------------------------------------------
    def find_order(self, order: str | int | Decimal, cur: pyodbc.Cursor) -> dict[str, Any]:
        """OEORDH row by ORDNUMBER (text) or ORDUNIQ (number, or text of digits not matching a number)."""
        rows: list[dict[str, Any]] = []
        if isinstance(order, str) and len(order) <= 22:
            rows = self.db.select("OEORDH", {"ORDNUMBER": order}, cur)
        if not rows and (isinstance(order, (int, Decimal)) or str(order).isdigit()):
            rows = self.db.select("OEORDH", {"ORDUNIQ": Decimal(int(order))}, cur)
        if not rows:
            raise ErpError(f"Order {order} was not found.", 404)
        return rows[0]

    def ship_order(self, order: str | int, tracking: str, lines: Mapping[int | str, Any] | None = None,
                   shipvia: str | None = None, shipdate: int | None = None) -> dict[str, Any]:
        """Post one shipment of an order: `lines` maps OEORDD LINENUM (int) or item number (str) to the
        quantity shipped; None ships every outstanding item line. Returns every row written."""
        with self.db.transaction() as cur:
            head = self.find_order(order, cur)
            _check_shippable(head)
            details = self.db.select("OEORDD", {"ORDUNIQ": head["ORDUNIQ"]}, cur)
            picks = _quantities(details, lines)
            via_code, via_desc = self._ship_via(cur, head, shipvia)
            shiuniq = self.db.next_key(cur, "OESHIH", "SHIUNIQ")
            number = f"SH{shiuniq:07d}"
            stamp_date = self.db.stamp()[0]
            ship_lines, moved, changed = [], [], []
            for n, (line, qty) in enumerate(picks, start=1):
                ship_lines.append(self._ship_line(cur, head, line, qty, shiuniq, n, tracking))
                moved.append(self._stock_out(cur, line["ITEM"], line["LOCATION"], qty))
                changed.append(self._line_shipped(cur, line, qty))
            done = all(_outstanding(r) == ZERO for r in _merge(details, changed) if r["LINETYPE"] == 1)
            if done:
                changed = self._complete_lines(cur, _merge(details, changed))
            total = sum((r["QTYSHIPPED"] * r["UNITPRICE"] for r in ship_lines), ZERO)
            shipment = {"SHIUNIQ": shiuniq, "SHINUMBER": number, "ORDUNIQ": head["ORDUNIQ"],
                        "ORDNUMBER": head["ORDNUMBER"], "CUSTOMER": head["CUSTOMER"], "PONUMBER": head["PONUMBER"],
                        "REFERENCE": head["REFERENCE"], "SHIDATE": shipdate or stamp_date, "SHIPVIA": via_code,
                        "VIADESC": via_desc, "SHIPTRACK": tracking, "COMPLETE": OPEN_ORDER,
                        "SHINETWTX": total.quantize(Decimal("0.001"), ROUND_HALF_UP)}
            self.db.insert(cur, "OESHIH", shipment, self.user)
            for row in ship_lines:
                self.db.insert(cur, "OESHID", row, self.user)
            key = {"ORDUNIQ": head["ORDUNIQ"]}
            self.db.update(cur, "OEORDH", key, {"COMPLETE": COMPLETE_ORDER if done else head["COMPLETE"]}, self.user)
            h1 = self._header1(cur, head)
            self.db.update(cur, "OEORDH1", key, {"SHIPTRACK": tracking, "NUMSHPMENT": h1["NUMSHPMENT"] + 1,
                                                 "LASTSHINUM": number}, self.user)
            return {"OESHIH": self.db.get("OESHIH", {"SHIUNIQ": shiuniq}, cur),
                    "OESHID": self.db.select("OESHID", {"SHIUNIQ": shiuniq}, cur),
                    "OEORDH": self.db.get("OEORDH", key, cur), "OEORDH1": self.db.get("OEORDH1", key, cur),
                    "OEORDD": self.db.select("OEORDD", key, cur), "ICILOC": moved}

    def _ship_via(self, cur: pyodbc.Cursor, head: dict[str, Any], shipvia: str | None) -> tuple[str, str]:
        if not shipvia:
            return head["SHIPVIA"], head["VIADESC"]
        via = self.db.get("OEVIA", {"CODE": shipvia}, cur) if len(shipvia) <= 6 else None
        if via is None:
            raise ErpError(f"Ship-via code {shipvia} does not exist.")
        return via["CODE"], via["NAME"]

    def _ship_line(self, cur: pyodbc.Cursor, head: dict[str, Any], line: dict[str, Any], qty: Decimal,
                   shiuniq: int, n: int, tracking: str) -> dict[str, Any]:
        item = self.db.get("ICITEM", {"ITEMNO": unformat_item(line["ITEM"])}, cur)
        return {"SHIUNIQ": Decimal(shiuniq), "LINENUM": Decimal(n * LINE_STEP), "ITEM": line["ITEM"],
                "LOCATION": line["LOCATION"], "QTYSHIPPED": qty, "SHIUNIT": item["STOCKUNIT"] if item else "EA",
                "UNITPRICE": line["UNITPRICE"], "ORDNUMBER": head["ORDNUMBER"], "ORDDTLNUM": line["LINENUM"],
                "SHIPTRACK": tracking, "COMPLETE": LINE_OPEN}

    def _stock_out(self, cur: pyodbc.Cursor, item: str, location: str, qty: Decimal) -> dict[str, Any]:
        key = {"ITEMNO": unformat_item(item), "LOCATION": location}
        stock = self.db.get("ICILOC", key, cur)
        if stock is None:
            raise ErpError(f"Item {item} has no location {location}.")
        self.db.update(cur, "ICILOC", key, {"QTYSHNOCST": stock["QTYSHNOCST"] + qty,
                                            "QTYCOMMIT": max(ZERO, stock["QTYCOMMIT"] - qty),
                                            "QTYSALORDR": max(ZERO, stock["QTYSALORDR"] - qty)}, self.user)
        return self.db.get("ICILOC", key, cur)

    def _line_shipped(self, cur: pyodbc.Cursor, line: dict[str, Any], qty: Decimal) -> dict[str, Any]:
        """The order line after a posted shipment: QTYSHPTODT grows, QTYSHIPPED (quantity to ship on the
        next shipment) is back to 0, backorder and commitment shrink."""
        to_date = line["QTYSHPTODT"] + qty
        changes = {"QTYSHPTODT": to_date, "QTYSHIPPED": ZERO,
                   "QTYBACKORD": max(ZERO, line["QTYORDERED"] - to_date),
                   "QTYCOMMIT": max(ZERO, line["QTYCOMMIT"] - qty),
                   "COMPLETE": LINE_COMPLETE if to_date >= line["QTYORDERED"] else line["COMPLETE"]}
        key = {"ORDUNIQ": line["ORDUNIQ"], "LINENUM": line["LINENUM"]}
        self.db.update(cur, "OEORDD", key, changes, self.user)
        return {**line, **changes}

    def _complete_lines(self, cur: pyodbc.Cursor, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for line in lines:
            if line["COMPLETE"] != LINE_COMPLETE:
                key = {"ORDUNIQ": line["ORDUNIQ"], "LINENUM": line["LINENUM"]}
                self.db.update(cur, "OEORDD", key, {"COMPLETE": LINE_COMPLETE}, self.user)
                line = {**line, "COMPLETE": LINE_COMPLETE}
            out.append(line)
        return out

    def _header1(self, cur: pyodbc.Cursor, head: dict[str, Any]) -> dict[str, Any]:
        """OEORDH1 of the order (created blank when an old order lacks one: the view keeps them 1:1)."""
        h1 = self.db.get("OEORDH1", {"ORDUNIQ": head["ORDUNIQ"]}, cur)
        if h1 is None:
            self.db.insert(cur, "OEORDH1", {"ORDUNIQ": head["ORDUNIQ"]}, self.user)
            h1 = self.db.get("OEORDH1", {"ORDUNIQ": head["ORDUNIQ"]}, cur)
        return h1

    def hold_order(self, order: str | int, reason: str = "") -> dict[str, Any]:
        """ONHOLD = 1 with OEORDH1.HOLDREASON."""
        return self._order_change(order, {"ONHOLD": 1}, {"HOLDREASON": reason})

    def release_order(self, order: str | int) -> dict[str, Any]:
        """ONHOLD = 0, HOLDREASON blank."""
        return self._order_change(order, {"ONHOLD": 0}, {"HOLDREASON": ""})

    def _order_change(self, order: str | int, head: dict[str, Any], head1: dict[str, Any]) -> dict[str, Any]:
        with self.db.transaction() as cur:
            found = self.find_order(order, cur)
            key = {"ORDUNIQ": found["ORDUNIQ"]}
            self.db.update(cur, "OEORDH", key, head, self.user)
            self._header1(cur, found)
            self.db.update(cur, "OEORDH1", key, head1, self.user)
            return {"OEORDH": self.db.get("OEORDH", key, cur), "OEORDH1": self.db.get("OEORDH1", key, cur)}

    def complete_order(self, order: str | int) -> dict[str, Any]:
        """Close an order as a clerk does (the rest is not shipped): COMPLETE = 3, every line complete,
        the stock the outstanding quantities committed given back."""
        with self.db.transaction() as cur:
            head = self.find_order(order, cur)
            key = {"ORDUNIQ": head["ORDUNIQ"]}
            moved = []
            for line in self.db.select("OEORDD", key, cur):
                if line["LINETYPE"] == 1 and line["COMPLETE"] != LINE_COMPLETE and line["QTYCOMMIT"] > ZERO:
                    moved.append(self._uncommit(cur, line, line["QTYCOMMIT"]))
                    self.db.update(cur, "OEORDD", {**key, "LINENUM": line["LINENUM"]},
                                   {"QTYCOMMIT": ZERO, "QTYBACKORD": ZERO}, self.user)
            lines = self._complete_lines(cur, self.db.select("OEORDD", key, cur))
            self.db.update(cur, "OEORDH", key, {"COMPLETE": COMPLETE_ORDER}, self.user)
            return {"OEORDH": self.db.get("OEORDH", key, cur), "OEORDD": lines, "ICILOC": moved}

    def _uncommit(self, cur: pyodbc.Cursor, line: dict[str, Any], qty: Decimal) -> dict[str, Any]:
        key = {"ITEMNO": unformat_item(line["ITEM"]), "LOCATION": line["LOCATION"]}
        stock = self.db.get("ICILOC", key, cur)
        if stock is None:
            raise ErpError(f"Item {line['ITEM']} has no location {line['LOCATION']}.")
        self.db.update(cur, "ICILOC", key, {"QTYCOMMIT": max(ZERO, stock["QTYCOMMIT"] - qty),
                                            "QTYSALORDR": max(ZERO, stock["QTYSALORDR"] - qty)}, self.user)
        return self.db.get("ICILOC", key, cur)

    # ----- stock ---------------------------------------------------------------------------------
    def receive_stock(self, item: str, location: str, qty: Decimal | int | str) -> dict[str, Any]:
        """An I/C receipt: QTYRENOCST += qty (an ICILOC row is created for an item new at the location)."""
        return self._stock_change(item, location, lambda s: {"QTYRENOCST": s["QTYRENOCST"] + _dec(qty)})

    def adjust_stock(self, item: str, location: str, qty: Decimal | int | str) -> dict[str, Any]:
        """An I/C adjustment (qty signed): QTYADNOCST += qty."""
        return self._stock_change(item, location, lambda s: {"QTYADNOCST": s["QTYADNOCST"] + _dec(qty)})

    def set_on_hand(self, item: str, location: str, qty: Decimal | int | str) -> dict[str, Any]:
        """An adjustment that makes the live on-hand quantity exactly `qty`."""
        return self._stock_change(item, location,
                                  lambda s: {"QTYADNOCST": s["QTYADNOCST"] + _dec(qty) - live_on_hand(s)})

    def _stock_change(self, item: str, location: str, change) -> dict[str, Any]:
        with self.db.transaction() as cur:
            return self.stock_change(cur, item, location, change)

    def stock_change(self, cur: pyodbc.Cursor, item: str, location: str, change) -> dict[str, Any]:
        """Inside the caller's transaction: apply `change(ICILOC row) -> columns` to one ICILOC row."""
        itemno = self._item(cur, item)["ITEMNO"]
        if len(location) > 6 or self.db.get("ICLOC", {"LOCATION": location}, cur) is None:
            raise ErpError(f"Location {location} does not exist.")
        key = {"ITEMNO": itemno, "LOCATION": location}
        stock = self.db.get("ICILOC", key, cur)
        if stock is None:
            self.db.insert(cur, "ICILOC", {**key, "ACTIVE": 1}, self.user)
            stock = self.db.get("ICILOC", key, cur)
        self.db.update(cur, "ICILOC", key, change(stock), self.user)
        return self.db.get("ICILOC", key, cur)

    def _item(self, cur: pyodbc.Cursor, item: str) -> dict[str, Any]:
        """ICITEM by unformatted or formatted number."""
        number = unformat_item(item)
        row = self.db.get("ICITEM", {"ITEMNO": number}, cur) if len(number) <= 24 else None
        if row is None:
            raise ErpError(f"Item {item} does not exist.", 404)
        return row

    # ----- items, prices, customers --------------------------------------------------------------
    def set_price(self, item: str, price: Decimal | int | str, pricelist: str = "WEB", currency: str = "USD",
                  price_type: int = 1, unit: str = "EA", sale_start: int = 0, sale_end: int = 0) -> dict[str, Any]:
        """Upsert one ICPRICP row (DPRICETYPE 1 base, 2 sale with SALESTART..SALEEND as YYYYMMDD)."""
        with self.db.transaction() as cur:
            key = {"CURRENCY": currency, "ITEMNO": self._item(cur, item)["ITEMNO"], "PRICELIST": pricelist,
                   "DPRICETYPE": int(price_type), "QTYUNIT": unit, "WEIGHTUNIT": ""}
            rest = {"UNITPRICE": _dec(price), "CONVERSION": Decimal(1), "SALESTART": sale_start,
                    "SALEEND": sale_end}
            if self.db.get("ICPRICP", key, cur) is None:
                self.db.insert(cur, "ICPRICP", {**key, **rest}, self.user)
            else:
                self.db.update(cur, "ICPRICP", key, rest, self.user)
            return self.db.get("ICPRICP", key, cur)

    def set_item(self, item: str, **changes: Any) -> dict[str, Any]:
        """Change ICITEM columns (DESC, INACTIVE, ALLOWONWEB, CATEGORY, UNITWGT, ...); DATELASTMN = today."""
        with self.db.transaction() as cur:
            key = {"ITEMNO": self._item(cur, item)["ITEMNO"]}
            self.db.update(cur, "ICITEM", key, {**_columns("ICITEM", changes), "DATELASTMN": self.db.stamp()[0]},
                           self.user)
            return self.db.get("ICITEM", key, cur)

    def change_customer(self, idcust: str, **changes: Any) -> dict[str, Any]:
        """Change ARCUS columns (NAMECUST, EMAIL2, TEXTSTRE1, SWHOLD, ...); DATELASTMN = today."""
        with self.db.transaction() as cur:
            key = {"IDCUST": idcust}
            if len(idcust) > 12 or self.db.get("ARCUS", key, cur) is None:
                raise ErpError(f"Customer {idcust} does not exist.", 404)
            self.db.update(cur, "ARCUS", key, {**_columns("ARCUS", changes), "DATELASTMN": self.db.stamp()[0]},
                           self.user)
            return self.db.get("ARCUS", key, cur)

    # ----- deletes and bursts --------------------------------------------------------------------
    def delete_row(self, table: str, key: Mapping[str, Any] | str) -> dict[str, Any]:
        """Delete one row by its primary key (a dict, or the values joined by "|" in key order, as
        erp.raw.v1 keys are: "A1400|1"). Returns the deleted row. Nothing else is adjusted."""
        t = SCHEMA.get(table.upper())
        if t is None:
            raise ErpError(f"Table {table} is not simulated.")
        values = key.split("|") if isinstance(key, str) else [key.get(k) for k in t.key]
        if len(values) != len(t.key) or any(v is None for v in values):
            raise ErpError(f"{t.name} key is {'|'.join(t.key)}.")
        where = dict(zip(t.key, values))
        with self.db.transaction() as cur:
            row = self.db.get(t.name, where, cur)
            if row is None:
                raise ErpError(f"{t.name} row {'|'.join(map(str, values))} was not found.", 404)
            self.db.delete(cur, t.name, where)
            return row

    def burst(self, updates: int, items: int, location: str = "1", same_stamp: bool = True,
              prefix: str = "BURST") -> dict[str, Any]:
        """`updates` stock adjustments (+1 each) spread round-robin over `items` items named
        f"{prefix}{i:05d}" (created, with their ICILOC row, when missing), in one transaction; with
        `same_stamp` every row written carries one AUDTDATE/AUDTTIME. Returns the stamps and rows."""
        if updates < 0 or items < 1 or len(prefix) + 5 > 24:
            raise ErpError("Send updates >= 0, items >= 1 and a prefix of at most 19 characters.")
        numbers = [f"{prefix}{i:05d}" for i in range(1, items + 1)]
        with self.db.frozen_stamp() if same_stamp else _no_freeze():
            with self.db.transaction() as cur:
                for number in numbers:
                    if self.db.get("ICITEM", {"ITEMNO": number}, cur) is None:
                        self.db.insert(cur, "ICITEM", {"ITEMNO": number, "FMTITEMNO": number, "DESC": number,
                                                       "STOCKITEM": 1, "STOCKUNIT": "EA", "ALLOWONWEB": 1,
                                                       "DATELASTMN": self.db.stamp()[0]}, self.user)
                for n in range(updates):
                    self.stock_change(cur, numbers[n % items], location,
                                      lambda s: {"QTYADNOCST": s["QTYADNOCST"] + 1})
                rows = [r for number in numbers
                        for r in self.db.select("ICILOC", {"ITEMNO": number, "LOCATION": location}, cur)]
        stamps = sorted({(int(r["AUDTDATE"]), int(r["AUDTTIME"])) for r in rows})
        return {"updates": updates, "items": items, "stamps": stamps, "ICILOC": rows}


@contextmanager
def _no_freeze() -> Iterator[None]:
    yield None


def live_on_hand(stock: Mapping[str, Decimal]) -> Decimal:
    """QTYONHAND + QTYRENOCST + QTYADNOCST - QTYSHNOCST (reference §2.2)."""
    return stock["QTYONHAND"] + stock["QTYRENOCST"] + stock["QTYADNOCST"] - stock["QTYSHNOCST"]


def _dec(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ErpError("Quantities and prices are exact: send a string or an integer, not a float.")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ErpError(f"{value!r} is not a number.") from None


def _columns(table: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    t = SCHEMA[table]
    out = {}
    for name, value in changes.items():
        col = t.by_name.get(name.upper())
        if col is None or col.name in t.key or col.name in PROTECTED:
            raise ErpError(f"{table} has no changeable column {name}.")
        out[col.name] = _dec(value) if col.kind == "D" else value
    return out


def _check_shippable(head: dict[str, Any]) -> None:
    if head["TYPE"] == QUOTE:
        raise ErpError(f"Order {head['ORDNUMBER']} is a quote and cannot be shipped.")
    if head["ONHOLD"]:
        raise ErpError(f"Order {head['ORDNUMBER']} is on hold.")
    if head["COMPLETE"] >= COMPLETE_ORDER:
        raise ErpError(f"Order {head['ORDNUMBER']} is complete.")


def _outstanding(line: Mapping[str, Any]) -> Decimal:
    return max(ZERO, line["QTYORDERED"] - line["QTYSHPTODT"])


def _quantities(details: list[dict[str, Any]], lines: Mapping[int | str, Any] | None) -> list[tuple[dict, Decimal]]:
    """(order line, quantity) pairs to ship; refuses unknown lines, misc lines and over-shipping."""
    items = [d for d in details if d["LINETYPE"] == 1]
    if lines is None:
        picks = [(d, _outstanding(d)) for d in items if _outstanding(d) > ZERO and d["COMPLETE"] != LINE_COMPLETE]
    else:
        picks = []
        for ref, qty in lines.items():
            match = [d for d in items if (d["LINENUM"] == ref if isinstance(ref, (int, Decimal))
                                          else d["ITEM"] == ref or unformat_item(d["ITEM"]) == unformat_item(ref))]
            if not match:
                raise ErpError(f"The order has no item line {ref}.")
            amount = _dec(qty)
            if amount <= ZERO or amount > _outstanding(match[0]):
                raise ErpError(f"Line {ref}: {amount} is not between 0 and the outstanding "
                               f"{_outstanding(match[0])}.")
            picks.append((match[0], amount))
    if not picks:
        raise ErpError("Nothing is left to ship on this order.")
    return picks


def _merge(details: list[dict[str, Any]], changed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_line = {c["LINENUM"]: c for c in changed}
    return [by_line.get(d["LINENUM"], d) for d in details]
