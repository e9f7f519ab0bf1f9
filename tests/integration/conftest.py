"""Shared fixtures: one real Kafka-protocol broker for the session (the embedded tansu unless
KAFKA_BOOTSTRAP_SERVERS names one), and helpers to read topics back."""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from decimal import Decimal

import pytest
from confluent_kafka import Consumer, TopicPartition

from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.settings import Settings
from sagebridge_devstack.broker import EmbeddedBroker
from sagebridge_devstack.processes import wait_until  # noqa: F401  (re-exported for the tests)


# -- running the suite on several pytest-xdist workers (scripts/test.sh: `-n 3 --dist loadfile`) ---------
# Each worker is a process with its own session fixtures: its own embedded broker, and its own stack
# if it runs a test that needs one. `--dist loadfile` keeps every module on one worker (its module
# fixtures are built once, its tests run in file order); the scheduler below also keeps the modules
# that share the session `stack` on one worker, so one stack serves them all, as without xdist. (A
# new module using `stack` that is not listed still passes: its worker builds a stack of its own.)
STACK_MODULES = {"test_pipeline.py", "test_ops.py", "test_store_flows.py", "test_erp_to_store_flows.py",
                 "test_scale_out.py", "test_alerts_live.py"}


@pytest.hookimpl(optionalhook=True)     # a plain run without pytest-xdist installed ignores it
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class StackModulesTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/integration/<stack>" if path.rsplit("/", 1)[-1] in STACK_MODULES else path

    return StackModulesTogether(config, log)


# The longest modules (measured, each over a minute on a quiet 2-core machine), longest first.
LONG_MODULES = ("<stack>", "test_erp_writer_kill_customers.py", "test_devstack.py", "test_storefront_writer.py",
                "test_erp_writer_exactly_once.py", "test_processor.py", "test_erp_cdc.py",
                # about a minute each, a stack of their own: after the others, away from test_devstack's timed runs
                "test_intacct_pair_faults.py", "test_intacct_pair_flows.py",
                # a stack of their own on a PostgreSQL database of the session's cluster
                "test_sagepro_pair_flows.py", "test_sagepro_pair_faults.py")


def pytest_collection_modifyitems(config, items):
    """On xdist workers, the longest modules first, then the other integration modules, then the
    quick unit modules: work units are handed out in collection order (scripts/test.sh turns off
    xdist's own reordering by test count), so the long ones start at once and the short ones fill
    the end. Every worker sorts alike (xdist checks that their collections agree). Without xdist
    the order is untouched."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    here = os.path.dirname(__file__)

    def rank(item) -> int:
        path = str(item.path)
        if not path.startswith(here):
            return len(LONG_MODULES) + 1
        name = "<stack>" if os.path.basename(path) in STACK_MODULES else os.path.basename(path)
        return LONG_MODULES.index(name) if name in LONG_MODULES else len(LONG_MODULES)
    items.sort(key=rank)                 # stable: each module keeps its own order


# tansu answers a JoinGroup only after about half the consumer's session timeout (measured: 3 s at
# the product's 6000 ms, 1 s at 2000 ms), and a SIGKILLed member's partitions move only when its
# session expires. Every consumer the integration tests start (in-process apps, service processes,
# the stack) joins, rebalances and takes over with a 2 s session on the embedded broker: the same
# joins, rebalances and takeovers, sooner. A real broker given in KAFKA_BOOTSTRAP_SERVERS keeps the
# product defaults (Kafka refuses sessions below its group.min.session.timeout.ms, 6 s by default).
EMBEDDED_BROKER_GROUP_ENV = {"KAFKA_SESSION_TIMEOUT_MS": "2000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"}


def group_timing_env() -> dict[str, str]:
    """The consumer timings for processes and settings of the integration tests (see above)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return {}
    return {k: v for k, v in EMBEDDED_BROKER_GROUP_ENV.items() if k not in os.environ}


@pytest.fixture(autouse=True)
def fast_group_timing(monkeypatch):
    """Per test, so unit tests elsewhere in the same worker still see the product defaults."""
    for k, v in group_timing_env().items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory):
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    broker = EmbeddedBroker(log_path=tmp_path_factory.mktemp("broker") / "broker.log").start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def sagepro_pg():
    """One throwaway PostgreSQL 15 cluster for the session's Sage Pro modules (psqlODBC reaches
    it); each module makes its own database with `sagepro_pg.create_database(name)`. Started on
    first use only, and stopped (its data directory removed) at the end: nothing left running."""
    from sagebridge_sim.sagepro.pg_cluster import PostgresCluster

    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def serde():
    return SingleObjectSerde(SchemaCatalog.load())


class RunsInThread:
    """`with service:` runs `service.app` in a thread, as its console script would, and stops it
    on exit (the app is built by the subclass's `__init__`)."""

    app = None

    def __enter__(self):
        self._thread = threading.Thread(target=self.app.run, kwargs={"install_signals": False}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.app.request_stop()
        self._thread.join(20)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    admin = make_admin(Settings(kafka_bootstrap_servers=bootstrap))
    topics.apply(admin, [topics.TopicSpec(n, partitions, {}, consumed=False) for n in names])


def read_all(bootstrap: str, topic: str, *, expect: int | None = None, timeout: float = 30.0,
             idle: float = 1.5) -> list:
    """Every record of `topic` from the beginning. Stops at `expect` records, or after `idle`
    seconds without a new one (tansu's ListOffsets is unreliable, so no end offset is trusted)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"), "enable.auto.commit": False,
                  "fetch.wait.max.ms": 10})
    md = c.list_topics(topic, timeout=10).topics[topic]
    c.assign([TopicPartition(topic, p, 0) for p in md.partitions])
    out, last = [], time.monotonic()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = c.poll(0.1)
            if msg is None or msg.error():
                if expect is None and time.monotonic() - last > idle:
                    break
                continue
            out.append(msg)
            last = time.monotonic()
            if expect is not None and len(out) >= expect:
                # linger briefly to catch records beyond the expected count (duplicates)
                end = time.monotonic() + idle
                while time.monotonic() < end:
                    extra = c.poll(0.1)
                    if extra is not None and not extra.error():
                        out.append(extra)
                break
        return out
    finally:
        c.close()


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        res = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
        return {tp.partition: tp.offset for tp in res}
    finally:
        c.close()


# -- the whole system ---------------------------------------------------------------------------
import httpx  # noqa: E402
from fastapi import FastAPI, Request, Response  # noqa: E402  (module level: FastAPI resolves annotations here)

from sagebridge_devstack.stack import SERVICE_MODULES, Stack, StackConfig  # noqa: E402


def _attribute(value):
    """An OTLP AnyValue as Python (the kinds our spans use)."""
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _span_dict(span, service: str) -> dict:
    return {"name": span.name, "trace_id": span.trace_id.hex(), "service": service, "span_id": span.span_id.hex(),
            "parent_span_id": span.parent_span_id.hex(), "kind": span.kind,
            "attributes": {a.key: _attribute(a.value) for a in span.attributes},
            "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()} for link in span.links]}


class OtlpCollector:
    """A real OTLP/HTTP endpoint that keeps every exported span (name, ids, kind, attributes,
    links, service), decoded from the protobuf export request."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        self.spans: list[dict] = []
        api = FastAPI()

        @api.post("/v1/traces")
        async def traces(request: Request):
            req = ExportTraceServiceRequest.FromString(await request.body())
            for rs in req.resource_spans:
                service = next((a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), "")
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        self.spans.append(_span_dict(span, service))
            return Response(status_code=200)

        from sagebridge_sim.serve import BackgroundServer
        self.server = BackgroundServer(api).start()


@pytest.fixture(scope="session")
def otlp():
    collector = OtlpCollector()
    yield collector
    collector.server.stop()


@pytest.fixture(scope="session")
def stack(bootstrap, tmp_path_factory, otlp):
    """Simulators and all services as real processes on the session broker, with the X-Cart push
    module on (webhook path) and polling on (poll path), exporting traces to a test collector.
    Tests use their own orders, so they can share it; each restores any fault or service it changes."""
    env = {"RETRY_MAX_S": "2", "RETRY_INITIAL_S": "0.1", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.server.url,
           "OTEL_BSP_SCHEDULE_DELAY": "200", **group_timing_env()}
    cfg = StackConfig(work_dir=tmp_path_factory.mktemp("stack"), bootstrap=bootstrap, partitions=4,
                      poll_interval_s=0.5, webhook_push=True,
                      service_env={s: dict(env) for s in SERVICE_MODULES})
    with Stack(cfg) as s:
        yield s


class Sims:
    """Thin admin-API helpers for the simulators."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=30)

    # Orders are guest orders unless a test says `guest=False`: a guest goes to the template's default
    # web customer (customers.guests: default_customer); a registered customer's order needs the
    # writer's customer resolution (issue 6).
    def order(self, **spec) -> dict:
        body = {"guest": True, "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "payment_code": "P",
                "shipping_method": "UPS Ground",
                "items": [{"sku": "WIDGET-1", "name": "Widget", "price": "12.50", "amount": 2}]} | spec
        r = self.http.post(f"{self.stack.xcart_url}/_sim/orders", json=body)
        r.raise_for_status()
        return r.json()

    def bulk(self, count: int, **spec) -> list[dict]:
        template = {"guest": True, "email": "bulk@example.com", "payment_code": "P",
                    "items": [{"sku": "GADGET-2", "name": "Gadget", "price": "3.25", "amount": 1}]} | spec
        r = self.http.post(f"{self.stack.xcart_url}/_sim/orders/bulk", json={"count": count, "template": template,
                                                                               "detail": True})
        r.raise_for_status()
        return r.json()

    def xcart_order(self, order_id: int) -> dict:
        return self.http.get(f"{self.stack.xcart_url}/_sim/orders/{order_id}").json()

    def sage_orders(self) -> list[dict]:
        return self.http.get(f"{self.stack.sage_url}/_sim/orders").json()

    def sage_faults(self, **plan) -> None:
        self.http.post(f"{self.stack.sage_url}/_sim/faults", json=plan).raise_for_status()

    # -- issue 6: customers, payments, refunds -----------------------------------------------------
    def _post(self, path: str, body: dict, method: str = "POST") -> dict:
        r = self.http.request(method, f"{self.stack.xcart_url}{path}", json=body)
        r.raise_for_status()
        return r.json()

    def profile(self, **spec) -> dict:
        """Registers a customer (`login` is the e-mail); the store's profile record."""
        return self._post("/_sim/profiles", spec)

    def transactions(self, order_id: int) -> list[dict]:
        """The order's payment transactions as the REST API gives them (the checkout's sale first)."""
        r = self.http.get(f"{self.stack.xcart_url}/api/orders/{order_id}/payment_transactions",
                          headers={"X-Auth-Token": self.stack.xcart_read_token, "Accept": "application/json"})
        r.raise_for_status()
        return r.json()

    def backend(self, order_id: int, txn_id: int, **spec) -> dict:
        """A backend transaction (refund, refundPart, capture...) under a main one."""
        return self._post(f"/_sim/orders/{order_id}/transactions/{txn_id}/backend", spec)

    def payment_status(self, order_id: int, code: str) -> dict:
        """The order's payment status set through the REST API, as an admin would."""
        r = self.http.put(f"{self.stack.xcart_url}/api/orders/{order_id}/payment_status", json={"code": code},
                          headers={"X-Auth-Token": self.stack.xcart_token})
        r.raise_for_status()
        return r.json()

    def _sage(self, what: str, **params) -> list[dict]:
        r = self.http.get(f"{self.stack.sage_url}/_sim/{what}", params=params)
        r.raise_for_status()
        return json.loads(r.content, parse_float=Decimal)

    def sage_customers(self) -> list[dict]:
        return self._sage("customers")

    def sage_receipts(self, reference: str | None = None) -> list[dict]:
        """Every CA (receipt) and AD (adjustment) batch with its entries (only those of the order
        `reference`: Description `<reference>-P…` / `-R…`)."""
        return self._sage("receipts", **({} if reference is None else {"reference": reference}))

    def sage_journals(self) -> list[dict]:
        return self._sage("journals")


@pytest.fixture(scope="session")
def sims(stack):
    return Sims(stack)
