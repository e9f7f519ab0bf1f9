"""Sage Pro as reconcile's ErpLedger: somast rows by ponum prefix in keyset pages by sono, no
receipts (and reconcile --payments does not report payments missing for it); and `sagebridge
reconcile` as a real process against the X-Cart simulator and PostgreSQL through psqlODBC."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pyodbc
import pytest
import yaml

from sagebridge_common.events import new_metadata
from sagebridge_common.pairs import load_pair_file
from sagebridge_connectors.sagepro.ledger import SageProLedger
from sagebridge_connectors.sagepro.sink import SageProSink
from sagebridge_erp_writer.customers import customer_from_order, with_customer
from sagebridge_sim.sagepro.pg_cluster import PostgresCluster
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore
from sagebridge_sim.xcart import create_app as xcart_app
from sagebridge_transform.xcart.order import to_canonical

from .sagepro_support import fresh_database, make_pair, order

SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")


@pytest.fixture(scope="module")
def cluster():
    with PostgresCluster() as pg:
        yield pg


def test_orders_are_listed_by_prefix_in_pages_by_sono_and_no_receipts(cluster, tmp_path):
    db = fresh_database(cluster)
    pair = make_pair(tmp_path, db)
    sink = SageProSink(pair)
    try:
        for n in ("1", "2", "3", "4", "5"):
            sink.ensure_order(order(n))
    finally:
        sink.close()
    conn = pyodbc.connect(db, autocommit=True)       # an order keyed by hand in Sage Pro: not ours
    conn.execute("INSERT INTO somast01 (sono, ponum, ordamt, custno) VALUES ('      0999', 'PHONE-7', 10, 'C1')")
    conn.close()
    ledger = SageProLedger(pair, page_size=2)
    try:
        docs = list(ledger.orders("XP1-"))
        assert [(d.document_id, d.reference, d.total, d.customer) for d in docs] == [
            (str(1000 + i), f"XP1-{i}", Decimal("40.86"), "WABC") for i in range(1, 6)]
        assert ledger.calls["list_orders"] == 3                # pages of 2, 2 and 1
        assert list(ledger.receipts("XP1-")) == [] and ledger.keeps_receipts is False
    finally:
        ledger.close()


class Books:
    """The X-Cart simulator, a Sage Pro database and a pair file pointing at both."""

    def __init__(self, work: Path, odbc: str) -> None:
        self.work, self.odbc = work, odbc
        self.store = XCartStore()
        self.xcart = BackgroundServer(xcart_app(self.store, token_read="it-read", token_all="it-write")).start()
        (work / "pairs").mkdir()
        make_pair(work, odbc)
        data = yaml.safe_load(next(work.glob("pair-*.yaml")).read_text())
        data["storefront"] = {"kind": "xcart", "base_url": self.xcart.url, "token": "it-read"}
        (work / "pairs" / "pair.yaml").write_text(yaml.safe_dump(data))
        self.pair = load_pair_file(work / "pairs" / "pair.yaml")

    def place_and_write(self, count: int) -> list[str]:
        """Orders placed in the store, then what erp_writer does: the customer, then the order."""
        made = [httpx.post(f"{self.xcart.url}/_sim/orders", json={"items": [{"sku": "A100", "name": "Widget",
                "price": "12.50", "amount": 2}], "shipping": "5.00", "guest": True}).raise_for_status().json()
                for _ in range(count)]
        orders = [self.store.get_order(m["id"]) for m in made]
        sink = SageProSink(self.pair)
        numbers = []
        try:
            for o in orders:
                meta = new_metadata("order.created", source_system="xcart", source_instance="default",
                                    source_entity_id=str(o["id"]), pair_id=self.pair.pair,
                                    occurred_at=datetime.now(timezone.utc))
                c = to_canonical({"order": o, "payment_transactions": []}, self.pair, meta)
                who = sink.ensure_customer(customer_from_order(c, c["customer"], self.pair, c["billing_address"],
                                                               c["shipping_address"]), update=False)
                assert sink.ensure_order(with_customer(c, who.document_id)).outcome == "created"
                numbers.append(c["order_number"])
        finally:
            sink.close()
        return numbers

    def run(self, *args: str) -> subprocess.CompletedProcess:
        now = datetime.fromtimestamp(self.store.now(), timezone.utc)
        window = ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(hours=1)).isoformat()]
        return subprocess.run([SAGEBRIDGE, "reconcile", "--pair", self.pair.pair, "--pairs-path",
                               str(self.work / "pairs"), *window, *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})


def test_sagebridge_reconcile_works_for_the_pair_and_finds_a_deleted_order(cluster, tmp_path):
    books = Books(tmp_path, fresh_database(cluster))
    try:
        numbers = books.place_and_write(3)
        clean = books.run("--json", "--payments")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        report = json.loads(clean.stdout)
        assert report["counts"]["matched"] == 3 and report["gaps"] == [] and report["payments_checked"] is False
        assert "keeps no receipts" in clean.stderr

        conn = pyodbc.connect(books.odbc, autocommit=True)       # a clerk deletes one order in Sage Pro
        gone = f"XP1-{numbers[1]}"
        conn.execute("DELETE FROM somast01 WHERE ponum = ?", gone)
        conn.close()
        found = books.run("--json")
        assert found.returncode == 1, found.stdout + found.stderr
        [gap] = json.loads(found.stdout)["gaps"]
        assert (gap["result"], gap["reference"]) == ("missing_in_erp", gone)
    finally:
        books.xcart.stop()
