"""Sage 300 company database for the simulator, reached through a real ODBC driver (pyodbc).

Why real tables: the hub's change-data-capture service reads Sage 300's own tables (ICITEM, ICILOC,
ARCUS, OEORDH, OEORDD, ...) over ODBC, so the simulator keeps its state exactly where and how Sage
would: CHAR(n) columns space-padded on write, dates as DECIMAL(9,0) YYYYMMDD, times as DECIMAL(9,0)
HHMMSShh, audit columns AUDTDATE/AUDTTIME/AUDTUSER/AUDTORG right after the key, stamped in UTC on
every insert and update (UTC by default; `time_zone` stamps the local clock of a Sage server in that
zone, as real Sage does, and `frozen_stamp()` makes every row written inside a block share one stamp, so
change-capture tests can write many rows in "one second").

Portability: only CHAR/DECIMAL/SMALLINT types and every identifier double-quoted (DESC is a reserved
word), so the same DDL runs on SQLite (sqlite3odbc) and PostgreSQL (psqlodbc). SQLite keeps DECIMAL
as a number and its ODBC driver mis-types aggregates, so this module never computes in SQL: values are
read as plain columns, converted to `Decimal` quantized to the column scale, computed in Python and
bound as `Decimal`.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

import pyodbc


# The table definitions live in tables.py; re-exported because most modules import them from here.
from .tables import AUDIT, AUDIT_INDEX, C, Col, D, I, LINE_STEP, ORDER_TABLES, SCHEMA, SHIPMENT_TABLES, Table  # noqa: F401


def q(name: str) -> str:
    """Quote an identifier (DESC, TYPE, COMMENT are reserved words somewhere)."""
    return f'"{name}"'


def unformat_item(number: str) -> str:
    """Sage's unformatted item number: the formatted one without the segment separators."""
    return number.replace("-", "").replace("/", "").replace(".", "").strip()


def connection_string_for(path_or_odbc: str) -> str:
    """A bare path means an SQLite file through sqlite3odbc; anything with `=` is an ODBC string."""
    if "=" in path_or_odbc:
        return path_or_odbc
    return f"DRIVER={{SQLite3}};Database={path_or_odbc};Timeout=10000"


def utc_stamp(now: datetime | None = None) -> tuple[int, int]:
    """(YYYYMMDD, HHMMSShh) for the current UTC time, as Sage stores AUDTDATE/AUDTTIME."""
    now = now or datetime.now(timezone.utc)
    date = now.year * 10000 + now.month * 100 + now.day
    time = now.hour * 1000000 + now.minute * 10000 + now.second * 100 + now.microsecond // 10000
    return date, time


def local_stamp(zone: tzinfo | None = None) -> tuple[int, int]:
    """(YYYYMMDD, HHMMSShh) of the current time on a clock in `zone` (UTC when None)."""
    return utc_stamp(datetime.now(zone or timezone.utc))


def stamp_of(moment: datetime, zone: tzinfo | None = None) -> tuple[int, int]:
    """(YYYYMMDD, HHMMSShh) of `moment` (aware; naive = UTC) read on a clock in `zone` (UTC when None)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return utc_stamp(moment.astimezone(zone or timezone.utc))


def zone_named(name: str | None) -> tzinfo:
    """An IANA zone name ("America/Vancouver"); None, "" or "UTC" = UTC."""
    return timezone.utc if not name or name.upper() == "UTC" else ZoneInfo(name)


class RowError(ValueError):
    """A value does not fit its column (too long, too many decimals)."""


def to_db(col: Col, value: Any) -> Any:
    """Python value -> bound parameter: CHAR padded to its length, DECIMAL as a quantized Decimal."""
    if value is None:
        value = col.blank()
    if col.kind == "C":
        text = str(value)
        if len(text) > col.size:
            raise RowError(f"{col.name} is longer than {col.size} characters")
        return text.ljust(col.size)
    if col.kind == "D":
        return _quantize(col, Decimal(str(value)))
    return int(value)


def _quantize(col: Col, value: Decimal) -> Decimal:
    exp = Decimal(1).scaleb(-col.scale)
    out = value.quantize(exp)
    if out != value:
        raise RowError(f"{col.name} allows {col.scale} decimal places")
    return out


def from_db(col: Col, value: Any) -> Any:
    """Column value read back -> str (right-trimmed), Decimal (column scale) or int."""
    if col.kind == "C":
        return (value or "").rstrip()
    if col.kind == "D":
        raw = Decimal(str(value if value is not None else 0))
        return raw.quantize(Decimal(1).scaleb(-col.scale))
    return int(value or 0)


class Sage300Database:
    """One pyodbc connection guarded by a re-entrant lock (the web server is threaded; SQLite
    dislikes concurrent writers anyway). `org` and `audit_user` fill AUDTORG/AUDTUSER."""

    def __init__(self, odbc_connection_string: str, org: str = "SAMINC", audit_user: str = "ADMIN") -> None:
        self.connection_string = connection_string_for(odbc_connection_string)
        self.org = org
        self.audit_user = audit_user
        self.lock = threading.RLock()
        self.conn = pyodbc.connect(self.connection_string, autocommit=True)
        self.is_sqlite = "sqlite" in self.conn.getinfo(pyodbc.SQL_DRIVER_NAME).lower()
        if self.is_sqlite:  # readers (CDC) on other connections must not block the simulator
            self.conn.execute("PRAGMA journal_mode=WAL").fetchall()
            # a simulator needs no power-loss durability; an fsync per order would dominate its latency
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.autocommit = False
        self._last_orduniq: int | None = None
        self._last_keys: dict[tuple[str, str], int] = {}
        self.time_zone: tzinfo = timezone.utc        # the Sage server's clock (AUDTDATE/AUDTTIME are local)
        self.stamp_override: tuple[int, int] | None = None   # set by frozen_stamp()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[pyodbc.Cursor]:
        """Cursor inside one DB transaction, committed on success and rolled back on any error."""
        with self.lock:
            cur = self.conn.cursor()
            try:
                yield cur
                self.conn.commit()
            except BaseException:
                self.conn.rollback()
                raise
            finally:
                cur.close()

    # ----- schema -------------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Create every table that does not exist yet, and add columns a newer simulator defines to
        tables an older one created (safe to call on every start)."""
        with self.transaction() as cur:
            existing = {row.table_name.upper() for row in cur.tables(tableType="TABLE").fetchall()}
        for table in SCHEMA.values():
            with self.transaction() as cur:
                if table.name not in existing:
                    for stmt in _ddl(table):
                        cur.execute(stmt)
                    continue
                have = {row.column_name.upper() for row in cur.columns(table=table.name).fetchall()}
                for col in table.cols:
                    if col.name not in have:
                        blank = "' '" if col.kind == "C" else "0"
                        cur.execute(f"ALTER TABLE {q(table.name)} ADD COLUMN {q(col.name)} {col.sql_type()} "
                                    f"NOT NULL DEFAULT {blank}")
                for stmt in _index_ddl(table):
                    cur.execute(stmt)

    # ----- clock ---------------------------------------------------------------------------------
    def stamp(self) -> tuple[int, int]:
        """The (AUDTDATE, AUDTTIME) the next written row gets: the frozen stamp inside
        `frozen_stamp()`, else now on the server's clock (`time_zone`)."""
        return self.stamp_override or local_stamp(self.time_zone)

    @contextmanager
    def frozen_stamp(self, at: datetime | tuple[int, int] | None = None) -> Iterator[tuple[int, int]]:
        """Every row written inside the block (by any thread, the Web API's too) carries one stamp:
        `at` (a moment read on the server's clock, or an explicit (date, time)), default now. Nests:
        an inner block keeps the outer stamp unless it names its own. The lock is not held across the
        block, so a test may call the simulator over HTTP inside it."""
        with self.lock:
            previous = self.stamp_override
            if isinstance(at, tuple):
                frozen = (int(at[0]), int(at[1]))
            elif at is not None:
                frozen = stamp_of(at, self.time_zone)
            else:
                frozen = previous or local_stamp(self.time_zone)
            self.stamp_override = frozen
        try:
            yield frozen
        finally:
            with self.lock:
                self.stamp_override = previous

    def next_key(self, cur: pyodbc.Cursor, table: str, column: str, floor: int = 0) -> int:
        """Next uniquifier of `table.column`: above every stored one and every one handed out before
        (never reused after a delete, so CDC keys stay unique)."""
        with self.lock:
            highest = self.highest(table, column, None, cur)
            last = max(self._last_keys.get((table, column), floor), int(highest or 0))
            self._last_keys[(table, column)] = last + 1
            return last + 1

    # ----- generic row access -------------------------------------------------------------------
    def _stamp(self, row: dict[str, Any], user: str | None) -> None:
        row["AUDTDATE"], row["AUDTTIME"] = self.stamp()
        row["AUDTUSER"] = (user or self.audit_user).upper()[:8]
        row["AUDTORG"] = self.org.upper()[:6]

    def insert(self, cur: pyodbc.Cursor, table: str, row: Mapping[str, Any], user: str | None = None) -> None:
        """Insert one row; missing columns get Sage's blanks (spaces / 0), audit columns stamped."""
        t = SCHEMA[table]
        values = dict(row)
        self._stamp(values, user)
        unknown = set(values) - {c.name for c in t.cols}
        if unknown:
            raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
        names = ", ".join(q(c.name) for c in t.cols)
        marks = ", ".join("?" for _ in t.cols)
        params = [to_db(c, values.get(c.name)) for c in t.cols]
        cur.execute(f"INSERT INTO {q(table)} ({names}) VALUES ({marks})", params)

    def update(self, cur: pyodbc.Cursor, table: str, key: Mapping[str, Any], changes: Mapping[str, Any],
               user: str | None = None) -> int:
        """Update columns of the row(s) matching `key`; audit columns stamped. Returns row count."""
        t = SCHEMA[table]
        values = dict(changes)
        self._stamp(values, user)
        sets = ", ".join(f"{q(n)} = ?" for n in values)
        where, wparams = _where(t, key)
        params = [to_db(t.col(n), v) for n, v in values.items()] + wparams
        cur.execute(f"UPDATE {q(table)} SET {sets} WHERE {where}", params)
        return cur.rowcount

    def delete(self, cur: pyodbc.Cursor, table: str, key: Mapping[str, Any]) -> int:
        """Delete the row(s) matching `key`. Returns the row count."""
        where, params = _where(SCHEMA[table], key)
        cur.execute(f"DELETE FROM {q(table)} WHERE {where}", params)
        return cur.rowcount

    def select(self, table: str, where: Mapping[str, Any] | None = None,
               cur: pyodbc.Cursor | None = None) -> list[dict[str, Any]]:
        """Rows as dicts of normalized values (strings trimmed, Decimals at column scale), in key order.
        `where` compares columns for equality with padded values."""
        t = SCHEMA[table]
        sql = f"SELECT {', '.join(q(c.name) for c in t.cols)} FROM {q(table)}"
        params: list[Any] = []
        if where:
            clause, params = _where(t, where)
            sql += f" WHERE {clause}"
        sql += " ORDER BY " + ", ".join(q(k) for k in t.key)
        if cur is not None:
            return _rows(t, cur.execute(sql, params).fetchall())
        with self.transaction() as c:
            return _rows(t, c.execute(sql, params).fetchall())

    def highest(self, table: str, column: str, where: Mapping[str, Any] | None, cur: pyodbc.Cursor) -> Any:
        """MAX(column) of the rows matching `where` (None when there are none), read by SQL: the next
        document number must not read and convert every stored document under the lock."""
        t = SCHEMA[table]
        sql, params = f"SELECT MAX({q(column)}) FROM {q(table)}", []
        if where:
            clause, params = _where(t, where)
            sql += f" WHERE {clause}"
        value = cur.execute(sql, params).fetchone()[0]
        return None if value is None else from_db(t.col(column), value)

    def get(self, table: str, key: Mapping[str, Any], cur: pyodbc.Cursor | None = None) -> dict[str, Any] | None:
        rows = self.select(table, key, cur)
        return rows[0] if rows else None

    def upsert(self, table: str, row: Mapping[str, Any], user: str | None = None) -> None:
        """Insert, or update the non-key columns given if the key exists (seeding is repeatable)."""
        t = SCHEMA[table]
        key = {k: row[k] for k in t.key}
        with self.transaction() as cur:
            if self.get(table, key, cur) is None:
                self.insert(cur, table, row, user)
            else:
                rest = {k: v for k, v in row.items() if k not in t.key}
                self.update(cur, table, key, rest, user)

    # ----- seeding ------------------------------------------------------------------------------
    def seed_demo(self) -> None:
        """The demo company (demo_company.py): repeatable."""
        from .demo_company import seed_demo   # demo data lives beside, not inside, the storage layer
        seed_demo(self)

    # ----- orders -------------------------------------------------------------------------------
    def _next_orduniq(self, cur: pyodbc.Cursor) -> int:
        """Never reuses a uniquifier, even after a reset (CDC watermarks and keys stay unique)."""
        if self._last_orduniq is None:
            row = cur.execute(f"SELECT {q('ORDUNIQ')} FROM {q('OEORDH')} ORDER BY {q('ORDUNIQ')} DESC").fetchone()
            self._last_orduniq = int(Decimal(str(row[0]))) if row else 100000
        self._last_orduniq += 1
        return self._last_orduniq

    def create_order(self, header: Mapping[str, Any], header1: Mapping[str, Any],
                     details: list[Mapping[str, Any]], user: str | None = None) -> int:
        """Insert OEORDH + OEORDH1 + OEORDD rows and commit the stock of the item lines (ICILOC
        QTYCOMMIT and QTYSALORDR), all in one transaction. Returns the new ORDUNIQ."""
        with self.transaction() as cur:
            orduniq = self._next_orduniq(cur)
            number = f"ORD{orduniq:09d}"
            self.insert(cur, "OEORDH", {**header, "ORDUNIQ": orduniq, "ORDNUMBER": number}, user)
            self.insert(cur, "OEORDH1", {**header1, "ORDUNIQ": orduniq}, user)
            for n, line in enumerate(details, start=1):
                self.insert(cur, "OEORDD", {**line, "ORDUNIQ": orduniq, "LINENUM": n * LINE_STEP}, user)
                if line.get("LINETYPE") == 1:
                    self._move_commitment(cur, line["ITEM"], line["LOCATION"], line["QTYORDERED"], user)
            return orduniq

    def _move_commitment(self, cur: pyodbc.Cursor, item: str, location: str, qty: Decimal,
                         user: str | None) -> None:
        key = {"ITEMNO": unformat_item(item), "LOCATION": location}
        stock = self.get("ICILOC", key, cur)
        if stock is None and qty <= 0:   # giving back to a row deleted meanwhile (a CDC delete test)
            return
        if stock is None:
            raise KeyError(f"no ICILOC row for {item} at {location}")
        self.update(cur, "ICILOC", key, {"QTYCOMMIT": stock["QTYCOMMIT"] + qty,
                                         "QTYSALORDR": stock["QTYSALORDR"] + qty}, user)

    def order_rows(self, where: Mapping[str, Any] | None = None) -> list[tuple[dict, dict]]:
        """(OEORDH row, OEORDH1 row) pairs, optionally filtered by OEORDH column equality."""
        with self.transaction() as cur:
            heads = self.select("OEORDH", where, cur)
            if len(heads) <= 20:   # a lookup: fetch only the matching OEORDH1 rows, not the whole table
                extra = {r["ORDUNIQ"]: r for h in heads
                         for r in self.select("OEORDH1", {"ORDUNIQ": h["ORDUNIQ"]}, cur)}
            else:
                extra = {r["ORDUNIQ"]: r for r in self.select("OEORDH1", None, cur)}
        return [(h, extra.get(h["ORDUNIQ"], {})) for h in heads]

    def order_lines(self, orduniq: int | Decimal) -> list[dict[str, Any]]:
        return self.select("OEORDD", {"ORDUNIQ": orduniq})

    def delete_order(self, orduniq: int | Decimal) -> None:
        """Delete one order's rows and give back the stock its item lines still commit (QTYCOMMIT: what
        shipments have not taken yet) (an administrator
        deleting it in O/E Order Entry)."""
        with self.transaction() as cur:
            for line in self.select("OEORDD", {"ORDUNIQ": orduniq}, cur):
                if line["LINETYPE"] == 1:
                    self._move_commitment(cur, line["ITEM"], line["LOCATION"], -line["QTYCOMMIT"], None)
            for table in ORDER_TABLES:
                cur.execute(f"DELETE FROM {q(table)} WHERE {q('ORDUNIQ')} = ?", [Decimal(orduniq)])

    def clear_orders(self) -> int:
        """Delete every order (and every shipment) and give back the stock the order lines still commit.
        Returns how many orders."""
        with self.transaction() as cur:
            lines = self.select("OEORDD", None, cur)
            for line in lines:
                if line["LINETYPE"] == 1:
                    self._move_commitment(cur, line["ITEM"], line["LOCATION"], -line["QTYCOMMIT"], None)
            count = len(self.select("OEORDH", None, cur))
            for table in ORDER_TABLES + SHIPMENT_TABLES:
                cur.execute(f"DELETE FROM {q(table)}")
            return count


def _ddl(table: Table) -> list[str]:
    cols = ", ".join(f"{q(c.name)} {c.sql_type()} NOT NULL" for c in table.cols)
    pk = ", ".join(q(k) for k in table.key)
    stmts = [f"CREATE TABLE {q(table.name)} ({cols}, PRIMARY KEY ({pk}))"]
    for col in table.unique:
        stmts.append(f"CREATE UNIQUE INDEX {q(table.name + '_' + col)} ON {q(table.name)} ({q(col)})")
    stmts += _index_ddl(table)
    return stmts


def _index_ddl(table: Table) -> list[str]:
    """IF NOT EXISTS (SQLite, PostgreSQL): create_schema re-runs it for tables an older simulator made."""
    return [f"CREATE INDEX IF NOT EXISTS {q(table.name + '_' + spec.replace(',', '_'))} ON {q(table.name)} "
            f"({', '.join(q(c) for c in spec.split(','))})" for spec in table.indexes]


@dataclass(frozen=True)
class Containing:
    """A `where` value for a superset pre-filter: the column contains one of `texts` (LIKE '%text%';
    a `_` or `%` in a text only widens it). The caller evaluates the exact predicate afterwards."""
    texts: tuple[str, ...]


def _where(t: Table, key: Mapping[str, Any]) -> tuple[str, list[Any]]:
    terms, params = [], []
    for n, v in key.items():
        if isinstance(v, Containing):
            terms.append("(" + " OR ".join(f"{q(n)} LIKE ?" for _ in v.texts) + ")")
            params += [f"%{text}%" for text in v.texts]
        else:
            terms.append(f"{q(n)} = ?")
            params.append(to_db(t.col(n), v))
    return " AND ".join(terms), params


def _rows(t: Table, fetched: list) -> list[dict[str, Any]]:
    return [{c.name: from_db(c, v) for c, v in zip(t.cols, row)} for row in fetched]

