"""The X-Cart <-> Sage Pro pair's whole system for the integration tests: a `Stack` of pair
`xcart-sagepro` whose Sage Pro is a PostgreSQL 15 database reached through psqlODBC (one database
per test module in the session's `sagepro_pg` cluster, built from the layout with the simulator's
demo company), the X-Cart simulator, the Sage Pro simulator's control app and all five services as
processes on the session broker.

The tests read the company tables with their own ODBC connection (`SageProTables`), independently
of the code under test, and make ERP-side changes with the simulator's driver (the same code the
control app, and so the dev stack's demo, runs). As for the Intacct pair (intacct_pair.py), every stack gets its own store
`instance` and X-Cart order numbers from its own range, so stacks of this pair in one session never
share a reference.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pyodbc

from sagebridge_common.topics import ERP_RESULTS, STOREFRONT_RESULTS
from sagebridge_connectors.sagepro.layout import Layout, load_layout
from sagebridge_devstack.processes import wait_until
from sagebridge_devstack.stack import SERVICE_MODULES, Stack, StackConfig

from .intacct_pair import XCart, new_email  # noqa: F401  (the same X-Cart simulator; re-exported)
from .threedcart_pair import TopicReader, dlq_topics

PAIR = "xcart-sagepro"
PREFIX = "XP1-"                                  # the shipped pair file's reference_prefix
COMPANY = "01"
FAST = {"RETRY_MAX_S": "2", "RETRY_INITIAL_S": "0.1"}


def build_database(cluster, name: str, layout: Layout | None = None) -> str:
    """A new database in the cluster with the Sage Pro tables of `layout` (default: the packaged
    one) and, for the default layout, the simulator's demo company; its psqlODBC connection string."""
    from sagebridge_sim.sagepro.db import SageProDb
    from sagebridge_sim.sagepro.demo import ensure_schema, seed_demo

    odbc = cluster.create_database(name)
    db = SageProDb(odbc, company=COMPANY, layout=layout)
    ensure_schema(db)
    if layout is None:
        seed_demo(db)
    return odbc


def customer_number(email: str, length: int = 10) -> str:
    """The pair's rule (customers.number_rule hash, prefix W, 10 characters: arcust custno),
    written out independently of the code under test."""
    key = email.strip().lower()
    return ("W" + base64.b32encode(hashlib.sha256(key.encode()).digest()).decode().rstrip("="))[:length]


def start_stack(bootstrap: str, work: Path, odbc: str, *, first_order: int,
                extra_env: dict[str, dict[str, str]] | None = None) -> Stack:
    """A started stack on the database `odbc` whose X-Cart orders are numbered from `first_order` + 1."""
    env = {s: dict(FAST) for s in SERVICE_MODULES}
    instance = f"it-{uuid.uuid4().hex[:6]}"
    for service in SERVICE_MODULES:
        env[service]["STORE_INSTANCE"] = instance
    for service, more in (extra_env or {}).items():
        env[service] |= more
    cfg = StackConfig(work_dir=work, bootstrap=bootstrap, pair=PAIR, partitions=4, poll_interval_s=0.5,
                      cdc_poll_interval_s=0.5, webhook_push=True, keep_state=True, service_env=env,
                      erp_connection=odbc, erp_dialect="postgres")
    stack = Stack(cfg)
    work.mkdir(parents=True, exist_ok=True)
    stack.xcart_state.write_text(json.dumps({"last_order_id": first_order, "last_order_number": first_order}) + "\n")
    try:
        return stack.start()
    except BaseException:
        stack.stop()
        raise


def stripped(row: dict[str, Any]) -> dict[str, Any]:
    """CHAR columns come back blank-padded (Visual FoxPro and PostgreSQL alike): compare them stripped."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in row.items()}


class SageProTables:
    """The test's own view of the company tables (physical names of the default layout)."""

    def __init__(self, odbc: str) -> None:
        self.odbc = odbc
        self.conn = pyodbc.connect(odbc, autocommit=True)
        self.layout = load_layout()

    def rows(self, sql: str, *params) -> list[dict[str, Any]]:
        cur = self.conn.cursor()
        cur.execute(sql, *params)
        names = [c[0] for c in cur.description]
        return [stripped(dict(zip(names, r))) for r in cur.fetchall()]

    def orders(self, reference: str) -> list[dict]:
        return self.rows(f"SELECT * FROM somast{COMPANY} WHERE RTRIM(ponum) = ?", reference)

    def lines(self, sono: str) -> list[dict]:
        return self.rows(f"SELECT * FROM sotran{COMPANY} WHERE LTRIM(sono) = ? ORDER BY tranlineno", sono.strip())

    def addresses(self, sono: str) -> list[dict]:
        return self.rows(f"SELECT * FROM soaddr{COMPANY} WHERE LTRIM(sono) = ?", sono.strip())

    def customers_with(self, email: str) -> list[dict]:
        return self.rows(f"SELECT * FROM arcust{COMPANY} WHERE UPPER(RTRIM(email)) = ?", email.strip().upper())

    def customer(self, custno: str) -> dict | None:
        found = self.rows(f"SELECT * FROM arcust{COMPANY} WHERE RTRIM(custno) = ?", custno)
        return found[0] if found else None

    def close(self) -> None:
        self.conn.close()


class SageProSim:
    """The simulator's ERP-side driver on the module's database: what a clerk changes in Sage Pro's
    own screens (stock counts, shipping an order), one transaction per change on its own connection."""

    def __init__(self, odbc: str) -> None:
        from sagebridge_sim.sagepro.db import SageProDb
        from sagebridge_sim.sagepro.driver import SageProDriver

        self.driver = SageProDriver(SageProDb(odbc, company=COMPANY))

    def stock(self, item: str, loctid: str, on_hand: str) -> Any:
        return self.driver.set_stock(item, on_hand, loctid)

    def ship(self, sono: str, tracking: str) -> Any:
        return self.driver.ship_order(sono=sono, tracking=tracking)


class Pair:
    """One running xcart-sagepro stack, its drivers and a reader of results and DLQs."""

    def __init__(self, stack: Stack, bootstrap: str, serde, odbc: str) -> None:
        self.stack, self.id, self.odbc = stack, stack.pair_id, odbc
        self.tables = SageProTables(odbc)
        self.sim = SageProSim(odbc)
        self.store = XCart(stack)
        self.topics = TopicReader(bootstrap, serde, [ERP_RESULTS, STOREFRONT_RESULTS, *dlq_topics()])

    def in_sagepro(self, made: dict, timeout: float = 60) -> dict:
        """The order's somast row once erp-writer committed it (exactly one)."""
        [order] = wait_until(lambda: self.tables.orders(PREFIX + made["order_number"]), timeout=timeout,
                             message=f"Sage Pro order {PREFIX}{made['order_number']}")
        return order

    def erp_results(self, reference: str) -> list[dict]:
        return [v for v in self.topics.of_pair(self.id, ERP_RESULTS) if v.get("reference") == reference]

    def close(self) -> None:
        self.topics.close()
        self.tables.close()


def D(text: str | int | float) -> Decimal:
    return Decimal(str(text))


@contextmanager
def running_pair(bootstrap: str, serde, work: Path, odbc: str, *, first_order: int,
                 extra_env: dict[str, dict[str, str]] | None = None) -> Iterator[Pair]:
    """A test module's whole xcart-sagepro stack on its database, stopped whatever the tests did."""
    stack = start_stack(bootstrap, work, odbc, first_order=first_order, extra_env=extra_env)
    pair = Pair(stack, bootstrap, serde, odbc)
    try:
        yield pair
    finally:
        pair.close()
        stack.stop()
