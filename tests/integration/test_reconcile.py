"""`sagebridge reconcile` as a real process against the real X-Cart and Sage 300 simulators over HTTP.

Store orders are placed in the X-Cart simulator, turned into canonical orders by transform's own
mapping and written by the real Sage300Sink (lookup by reference, then create), so the ERP side is
exactly what the pipeline leaves. Then one ERP order is deleted (a clerk in O/E, the simulator's
admin route) and one store order is keyed a second time through the Web API: the report
must name exactly those two. The Pushgateway is a real HTTP server that records what it receives.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families

from sagebridge_common.events import new_metadata
from sagebridge_common.pairs import load_pairs
from sagebridge_connectors.sage300 import Sage300Sink
from sagebridge_sim.sage300 import Sage300Database
from sagebridge_sim.sage300 import create_app as sage_app
from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore
from sagebridge_sim.xcart import create_app as xcart_app
from sagebridge_transform.xcart.order import to_canonical

SHIPPED_PAIR = Path(__file__).resolve().parents[2] / "pairs" / "xcart-sage300.yaml"
SAGEBRIDGE = str(Path(sys.executable).parent / "sagebridge")
PASSWORD = "it-recon-pw"
ITEM = {"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}


class Books:
    """Both simulators, a pair file pointing at them, and helpers to fill and damage the books."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.store = XCartStore()
        self.xcart_app = xcart_app(self.store, token_read="it-read", token_all="it-write")
        self.xcart = BackgroundServer(self.xcart_app).start()
        self.db = Sage300Database(str(work / "sage.sqlite"))
        self.db.seed_demo()
        self.sage_app = sage_app(self.db, password=PASSWORD)
        self.sage = BackgroundServer(self.sage_app).start()
        pair = yaml.safe_load(SHIPPED_PAIR.read_text())
        pair.update(pair="recon-it", store_time_zone="America/New_York")
        pair["storefront"] = {"kind": "xcart", "base_url": self.xcart.url, "token": "it-read"}
        pair["erp"] = {"kind": "sage300", "base_url": self.sage.url, "company": "SAMINC", "user": "WEBAPI",
                       "password": PASSWORD}
        (work / "pairs").mkdir()
        (work / "pairs" / "pair.yaml").write_text(yaml.safe_dump(pair))
        self.pair = load_pairs(work / "pairs", "recon-it")["recon-it"]

    def place(self, count: int, **spec) -> list[dict]:
        made = [httpx.post(f"{self.xcart.url}/_sim/orders",
                           json={"items": [ITEM], "shipping": "5.00", "guest": True, **spec}).raise_for_status().json()
                for _ in range(count)]
        return [self.store.get_order(m["id"]) for m in made]

    def write_to_erp(self, orders: list[dict]) -> None:
        """What erp_writer does with each: transform's mapping, then the real sink."""
        sink = Sage300Sink(self.pair)
        try:
            for o in orders:
                meta = new_metadata("order.created", source_system="xcart", source_instance="default",
                                    source_entity_id=str(o["id"]), pair_id=self.pair.pair,
                                    occurred_at=datetime.now(timezone.utc))
                canonical = to_canonical({"order": o, "payment_transactions": []}, self.pair, meta)
                assert sink.ensure_order(canonical).outcome == "created"
        finally:
            sink.close()

    def sage_orders(self) -> dict[str, list[dict]]:
        by: dict[str, list[dict]] = {}
        for o in httpx.get(f"{self.sage.url}/_sim/orders").json():
            by.setdefault(o["OrderReference"], []).append(o)
        return by

    def delete_erp_order(self, reference: str) -> str:
        """A clerk deletes the order in O/E (the simulator's admin route)."""
        (entry,) = self.sage_orders()[reference]
        httpx.delete(f"{self.sage.url}/_sim/orders/{entry['OrderNumber']}").raise_for_status()
        return entry["OrderNumber"]

    def key_again_by_hand(self, reference: str) -> str:
        """A clerk re-keys the order: same reference, the PO number they typed, through the Web API."""
        (entry,) = self.sage_orders()[reference]
        body = {"CustomerNumber": entry["CustomerNumber"], "OrderReference": reference,
                "PurchaseOrderNumber": f"CLERK-{reference[-5:]}", "OrderDate": entry["OrderDate"][:10],
                "OrderDetails": [{k: line[k] for k in ("LineType", "Item", "Location", "QuantityOrdered",
                                                        "OrderUnitPrice", "PriceOverride")}
                                 if line["LineType"] == "Item" else
                                 {k: line[k] for k in ("LineType", "MiscellaneousChargesCode", "ExtendedAmount")}
                                 for line in entry["OrderDetails"]]}
        resp = httpx.post(f"{self.sage.url}/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders", json=body,
                          auth=("WEBAPI", PASSWORD))
        assert resp.status_code == 201, resp.text
        return resp.json()["OrderNumber"]

    def window(self) -> list[str]:
        now = datetime.fromtimestamp(self.store.now(), timezone.utc)
        return ["--from", (now - timedelta(hours=1)).isoformat(), "--to", (now + timedelta(hours=1)).isoformat()]

    def run(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([SAGEBRIDGE, "reconcile", "--pair", "recon-it", "--pairs-path", str(self.work / "pairs"),
                               *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200", **(env or {})})

    def close(self) -> None:
        self.xcart.stop()
        self.sage.stop()
        self.db.close()


@pytest.fixture
def books(tmp_path):
    b = Books(tmp_path)
    yield b
    b.close()


class Pushgateway:
    """Records each push (method, path, body) as a Pushgateway would receive it."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, str, str]] = []
        app = FastAPI()

        @app.api_route("/metrics/job/{rest:path}", methods=["PUT", "POST"])
        async def push(request: Request, rest: str):
            self.pushes.append((request.method, request.url.path, (await request.body()).decode()))
            return {}

        self.server = BackgroundServer(app).start()


def _samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_a_clean_run_exits_0_and_orders_outside_the_window_are_left_alone(books):
    books.store.clock_offset = -3 * 3600          # an order of an earlier window, also in the ERP
    earlier = books.place(1)
    books.store.clock_offset = 0
    orders = books.place(4)
    books.write_to_erp(earlier + orders)
    done = books.run(*books.window(), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["counts"]["matched"] == 4 and report["gaps"] == [] and report["clean"] is True
    assert report["store_orders"] == 4 and report["erp_orders"] == 5
    assert report["calls"]["store"] == {"list_orders": 1}
    assert report["calls"]["erp"] == {"list_orders": 2}      # one page, then the empty page that ends it


def test_a_deleted_and_a_hand_keyed_duplicate_are_named_exactly_and_exit_1(books, tmp_path):
    orders = books.place(5)
    books.write_to_erp(orders)
    gone, twice = f"XC1-{orders[1]['order_number']}", f"XC1-{orders[3]['order_number']}"
    deleted = books.delete_erp_order(gone)
    original = books.sage_orders()[twice][0]["OrderNumber"]
    keyed = books.key_again_by_hand(twice)
    gateway = Pushgateway()
    prom = tmp_path / "reconcile.prom"
    try:
        done = books.run(*books.window(), "--json", "--metrics-file", str(prom),
                         env={"RECONCILE_PUSHGATEWAY_URL": gateway.server.url})
    finally:
        gateway.server.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [(g["result"], g["reference"]) for g in report["gaps"]] == [("missing_in_erp", gone),
                                                                      ("duplicated", twice)]
    assert report["gaps"][1]["erp_documents"] == [original, keyed]
    assert report["gaps"][0]["order_id"] == str(orders[1]["id"]) and deleted not in json.dumps(report["gaps"])
    assert report["counts"] == {"matched": 3, "missing_in_erp": 1, "duplicated": 1, "total_mismatch": 0,
                                "needs_attention": 0, "not_exported": 0}
    file_samples = _samples(prom.read_text())
    assert file_samples[("sagebridge_reconcile_documents", (("pair", "recon-it"), ("result", "duplicated")))] == 1
    assert file_samples[("sagebridge_reconcile_documents", (("pair", "recon-it"), ("result", "matched")))] == 3
    ((method, path, body),) = gateway.pushes
    assert (method, path) == ("PUT", "/metrics/job/sagebridge_reconcile/pair/recon-it")
    assert _samples(body)[("sagebridge_reconcile_documents", (("pair", "recon-it"), ("result", "missing_in_erp")))] == 1

    table = books.run(*books.window())          # the same answer for people
    assert table.returncode == 1
    assert gone in table.stdout and twice in table.stdout and "missing_in_erp" in table.stdout
    assert keyed in table.stdout and "\x1b[" not in table.stderr     # no progress bar off a terminal


def test_a_cancelled_order_in_the_erp_needs_attention(books):
    orders = books.place(2)
    books.write_to_erp(orders)
    httpx.put(f"{books.xcart.url}/api/orders/{orders[0]['id']}/payment_status", json={"code": "C"},
              headers={"X-Auth-Token": "it-write"}).raise_for_status()
    done = books.run(*books.window(), "--json")
    assert done.returncode == 1
    (gap,) = json.loads(done.stdout)["gaps"]
    assert (gap["result"], gap["reference"], gap["status"]) == ("needs_attention", f"XC1-{orders[0]['order_number']}",
                                                                "cancelled")


def test_bad_arguments_and_configuration_exit_2_and_an_unreachable_erp_exits_3(books, tmp_path):
    assert books.run("--from", "2026-11-02", "--to", "2026-11-01").returncode == 2
    assert books.run("--from", "yesterday", "--to", "2026-11-01").returncode == 2
    wrong = subprocess.run([SAGEBRIDGE, "reconcile", "--pair", "nope", "--pairs-path", str(books.work / "pairs"),
                            "--from", "2026-11-01", "--to", "2026-11-02"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "nope" in wrong.stderr
    books.place(1)
    books.sage.stop()
    down = books.run(*books.window(), "--json")
    assert down.returncode == 3 and "nothing is proven" in down.stderr and down.stdout == ""


def test_payments_cost_one_store_call_per_order_and_missing_receipts_are_named(books):
    orders = books.place(3)
    books.write_to_erp(orders)
    txns = {o["id"]: books.store.transactions(o["id"])[1] for o in orders}
    for o in (orders[0], orders[0], orders[1]):       # the first payment twice, the third not at all
        (t,) = txns[o["id"]]
        ref = f"XC1-{o['order_number']}"
        body = {"BatchRecordType": "CA", "BatchDate": datetime.now(timezone.utc).date().isoformat(),
                "Description": f"{ref}-Pt{t['id']}", "BankCode": "SEATAC",
                "ReceiptsAdjustments": [{"CustomerNumber": "WEBCUST", "EntryReference": ref,
                                         "ReceiptTransactionType": "Prepayment",
                                         "BankReceiptAmount": str(t["value"]), "CustomerReceiptAmount": str(t["value"])}]}
        resp = httpx.post(f"{books.sage.url}/Sage300WebApi/v1.0/-/SAMINC/AR/ARReceiptAndAdjustmentBatches",
                          json=body, auth=("WEBAPI", PASSWORD))
        assert resp.status_code == 201, resp.text
    done = books.run(*books.window(), "--json", "--payments")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    (t1,), (t3,) = txns[orders[0]["id"]], txns[orders[2]["id"]]
    assert [(g["result"], g["transaction_id"]) for g in report["gaps"]] == [("receipt_duplicated", f"t{t1['id']}"),
                                                                          ("receipt_missing", f"t{t3['id']}")]
    assert len(report["gaps"][0]["erp_documents"]) == 2 and report["gaps"][0]["erp_totals"] == ["30.000", "30.000"]
    assert report["counts"]["receipts_matched"] == 1 and report["counts"]["matched"] == 3
    assert report["calls"]["store"] == {"list_orders": 1, "payment_transactions": 3}


# -- the ledgers on their own, page by page ----------------------------------------------------------
def test_the_store_ledger_reads_a_half_open_window_page_by_page_and_an_edit_moves_no_row(books):
    from sagebridge_connectors.xcart.ledger import XCartLedger

    orders = books.place(7)
    start = 1_800_000_000
    for o, at in zip(orders, (start - 1, start, start + 5, start + 6, start + 7, start + 9, start + 10)):
        books.store.orders[o["id"]].date = at          # creation stamps, straight in the store's state
    ledger = XCartLedger(books.pair, page_size=2)
    window = (datetime.fromtimestamp(start, timezone.utc), datetime.fromtimestamp(start + 10, timezone.utc))
    read = ledger.orders(*window)
    first = [next(read), next(read)]
    # an admin edits an order already read: lastRenewDate moves, the creation date (the sort) does not
    httpx.put(f"{books.xcart.url}/api/orders/{orders[1]['id']}/payment_status", json={"code": "C"},
              headers={"X-Auth-Token": "it-write"}).raise_for_status()
    rest = list(read)
    assert [d.number for d in first + rest] == [o["order_number"] for o in orders[1:6]]
    assert first[0].created_at == window[0] and first[0].status == "paid" and first[0].ready_for_erp
    assert ledger.calls == {"list_orders": 3}      # 2 + 2 + 1 rows: the short page ends the walk
    ledger.close()


def test_the_erp_ledger_pages_by_key_so_a_deletion_while_reading_skips_nothing(books):
    from sagebridge_connectors.sage300.ledger import Sage300Ledger

    orders = books.place(6)
    books.write_to_erp(orders)
    ledger = Sage300Ledger(books.pair, page_size=2)
    read = ledger.orders("XC1-")
    first = [next(read), next(read)]
    books.delete_erp_order(first[0].reference)       # offsets of every later row move down by one
    rest = list(read)
    assert [d.reference for d in first + rest] == [f"XC1-{o['order_number']}" for o in orders]
    assert all(d.total == Decimal("30.00") and d.customer == "WEBCUST" for d in first + rest)
    assert ledger.calls == {"list_orders": 4}      # 3 pages of 2, then the empty page
    ledger.close()


def test_the_store_ledger_applies_transforms_ready_for_erp_rule_to_every_status(books):
    """The rule is written twice (transform decides the export, the ledger what should be there):
    both must agree on every payment x shipping status the pair maps."""
    from sagebridge_connectors.xcart.ledger import XCartLedger

    ledger = XCartLedger(books.pair)
    mapping = books.pair.mapping
    (order,) = books.place(1)
    meta = new_metadata("order.created", source_system="xcart", source_instance="default", source_entity_id="1",
                        pair_id=books.pair.pair, occurred_at=datetime.now(timezone.utc))
    for pay in [c for c in mapping.payment_status if c != "default"] + ["XX"]:
        for ship in [c for c in mapping.shipping_status if c != "default"] + ["XX"]:
            row = {**order, "payment_status": {"code": pay}, "shipping_status": {"code": ship}}
            canonical = to_canonical({"order": row, "payment_transactions": []}, books.pair, meta)
            doc = ledger._document(row)
            assert (doc.ready_for_erp, doc.status) == (canonical["ready_for_erp"], canonical["status"]), (pay, ship)
    ledger.close()


def _with_terminal_stderr(books: Books, *args: str) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (an operator's shell) and stdout piped."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([SAGEBRIDGE, "reconcile", "--pair", "recon-it", "--pairs-path", str(books.work / "pairs"),
                             *args], stdout=subprocess.PIPE, stderr=slave, text=True,
                            env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:              # EIO: the child closed its end
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    return proc.returncode, out, err.decode(errors="replace")


def test_on_a_terminal_the_progress_bar_goes_to_stderr_and_json_mode_has_none(books):
    books.write_to_erp(books.place(3))
    code, out, err = _with_terminal_stderr(books, *books.window())
    assert code == 0 and "matched" in out and "0:00:0" not in out
    assert "store orders" in err and "ERP orders" in err and "0:00:0" in err     # the bar's elapsed-time column
    code, out, err = _with_terminal_stderr(books, *books.window(), "--json")
    assert code == 0 and json.loads(out)["clean"] is True and err == ""


def test_a_feed_out_of_key_order_stops_the_erp_ledger_instead_of_reading_part_of_it(books):
    """Sage does not document the feed's order; paging by key is only sound in key order."""
    from sagebridge_common.errors import PermanentError
    from sagebridge_connectors.sage300.ledger import Sage300Ledger

    app = FastAPI()

    @app.get("/Sage300WebApi/v1.0/-/SAMINC/OE/OEOrders")
    def feed():
        return {"value": [{"OrderUniquifier": u, "OrderNumber": f"ORD{u}", "OrderReference": f"XC1-{u}",
                           "OrderTotal": 1, "CustomerNumber": "C"} for u in (7, 3)]}

    with BackgroundServer(app) as server:
        pair = books.pair.model_copy(update={"erp": books.pair.erp.model_copy(update={"base_url": server.url})})
        ledger = Sage300Ledger(pair)
        with pytest.raises(PermanentError, match="out of OrderUniquifier order"):
            list(ledger.orders("XC1-"))
        ledger.close()
