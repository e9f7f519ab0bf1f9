"""What the Shift4Shop (3dcart REST) benchmarks start: the embedded broker and the topic catalogue,
the Shift4Shop simulator as its own process, optionally the Sage 300 simulator, one pair file of
`storefront.kind: shift4shop`, and the hub's services as real processes — all stopped in `stop()`.

The pair file is the shipped `pairs/3dcart-sage300.yaml` when the checkout has it; otherwise it is
built from `pairs/xcart-sage300.yaml` with the issue-8 `storefront:` block of kind shift4shop and
the 3dcart status-id tables (`mapping.order_status`, `erp_order_status`), so the benchmarks run on
a branch where the 3dcart pair file has not landed yet. Either way the store's address and the
benchmark's settings (rate limit, batch size, ...) are written over the storefront block, and the
three API credentials and the webhook token stay `${...}` references, given to each service in its
environment (made up per run; never on a command line, never in the pair file).

The devstack's `Stack` knows only the X-Cart pair; this rig reuses its broker and process helpers
(`EmbeddedBroker`, `ManagedProcess`), as `erp_store_rig.py` does.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from common import REPO, metric_value
from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_devstack.broker import EmbeddedBroker
from sagebridge_devstack.processes import ManagedProcess, free_port

SHIPPED_3DCART = REPO / "pairs" / "3dcart-sage300.yaml"
SHIPPED_XCART = REPO / "pairs" / "xcart-sage300.yaml"
PAIR_ID = "3dcart-sage300"
API_BASE = "/3dCartWebAPI/v1"
SERVICE_MODULES = {"ingest": "sagebridge_ingest.main", "transform": "sagebridge_transform.main",
                   "erp-writer": "sagebridge_erp_writer.main",
                   "storefront-writer": "sagebridge_storefront_writer.main"}

# issue 8's storefront block (the connector's config.py), secrets as references
STOREFRONT_BLOCK: dict[str, Any] = {
    "kind": "shift4shop", "instance": "${STORE_INSTANCE:-default}", "api_url": "${SHIFT4SHOP_API_URL}",
    "secure_url": "${SHIFT4SHOP_SECURE_URL}", "private_key": "${SHIFT4SHOP_PRIVATE_KEY}",
    "token": "${SHIFT4SHOP_TOKEN}", "webhook_token": "${SHIFT4SHOP_WEBHOOK_TOKEN:-}", "webhook_allow_ips": [],
    "timeout_s": 20, "max_concurrency": 4, "poll_interval_s": 5, "page_size": 100, "overlap_s": 120,
    "rate_limit_per_s": 30, "rate_limit_burst": 60, "batch_size": 100, "batch_wait_ms": 200}
ORDER_STATUS = {  # issue 8: the status-id table shipped in the 3dcart pair file
    "1": ("new", True, "new"), "2": ("processing", True, "processing"),
    "3": ("partially_shipped", True, "partially_shipped"), "4": ("shipped", True, "shipped"),
    "5": ("cancelled", False, "will_not_deliver"), "6": ("on_hold", False, "on_hold"),
    "7": ("not_completed", False, "not_finished"), "11": ("awaiting_payment", False, "new"),
    "12": ("review", False, "awaiting_approval"), "default": ("unknown", False, "unknown")}


def sku_name(i: int) -> str:
    """The Shift4Shop simulator's seeded SKUs (`--seed-products N`): SKU-00001..N."""
    return f"SKU-{i:05d}"


def base_pair() -> tuple[dict[str, Any], str]:
    """The pair file's data and where it came from (see the module docstring)."""
    if SHIPPED_3DCART.exists():
        return yaml.safe_load(SHIPPED_3DCART.read_text()), f"pairs/{SHIPPED_3DCART.name}"
    data = yaml.safe_load(SHIPPED_XCART.read_text())
    data["reference_prefix"] = "3D1-"
    data["storefront"] = dict(STOREFRONT_BLOCK)
    mapping = data["mapping"]
    mapping["order_status"] = {k: {"status": s, "ready_for_erp": r, "fulfilment": f}
                               for k, (s, r, f) in ORDER_STATUS.items()}
    mapping["order_total_tolerance"] = "0.01"
    for xcart_only in ("payment_status", "shipping_status"):
        mapping.pop(xcart_only, None)
    mapping["erp_order_status"] = {"shipped": {"order_status": "4"}, "partially_shipped": {"order_status": "3"},
                                   "complete": {"order_status": "4"}, "on_hold": {"order_status": "6"},
                                   "open": {}}
    return data, f"pairs/{SHIPPED_XCART.name} + the issue-8 shift4shop block (bench/shift4shop_rig.py)"


def histogram_means(text: str, name: str, label: str) -> dict[str, dict[str, float]]:
    """{label value: {count, mean_ms}} of a Prometheus histogram, from a /metrics page."""
    sums: dict[str, list[float]] = {}
    for line in text.splitlines():
        for part, i in (("_sum{", 0), ("_count{", 1)):
            if line.startswith(name + part) and f'{label}="' in line:
                value = line.split(f'{label}="', 1)[1].split('"', 1)[0]
                sums.setdefault(value, [0.0, 0.0])[i] += float(line.rsplit(" ", 1)[1])
    return {k: {"count": int(n), "mean_ms": round(sm / n * 1000, 1)} for k, (sm, n) in sums.items() if n}


class ShopRig:
    def __init__(self, work: Path, *, partitions: int = 4) -> None:
        self.work, self.logs = work, work / "logs"
        self.partitions = partitions
        self.pair_id = PAIR_ID
        self.pair_source = ""
        self.broker: EmbeddedBroker | None = None
        self.bootstrap = ""
        self.processes: dict[str, ManagedProcess] = {}       # simulators
        self.services: dict[str, ManagedProcess] = {}
        self.ports = {name: free_port() for name in ("shop", "sage300", "ingest-http", *SERVICE_MODULES)}
        self.secure_url = "https://benchstore.3dcartstores.com"
        self.private_key, self.token = secrets.token_hex(16), secrets.token_hex(16)
        self.webhook_token = secrets.token_urlsafe(24)
        self.sage_password = secrets.token_hex(12)
        self.http = httpx.Client(timeout=30)

    # -- urls ----------------------------------------------------------------------------------
    @property
    def shop_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['shop']}"

    @property
    def api_url(self) -> str:
        return self.shop_url + API_BASE

    @property
    def sage_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sage300']}"

    @property
    def webhook_url(self) -> str:
        """What the merchant registers in the store: ingest's token route, the token as last segment."""
        return f"http://127.0.0.1:{self.ports['ingest-http']}/webhooks/shift4shop/{self.pair_id}/{self.webhook_token}"

    def ops_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def shop_env(self) -> dict[str, str]:
        return {"SHIFT4SHOP_SECURE_URL": self.secure_url, "SHIFT4SHOP_PRIVATE_KEY": self.private_key,
                "SHIFT4SHOP_TOKEN": self.token}

    @property
    def api_headers(self) -> dict[str, str]:
        return {"SecureURL": self.secure_url, "PrivateKey": self.private_key, "Token": self.token}

    # -- pieces --------------------------------------------------------------------------------
    def start_broker(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(log_path=self.logs / "broker.log")
        self.broker.start()
        self.bootstrap = self.broker.bootstrap
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=self.bootstrap)), topics.catalogue(self.partitions))

    def start_shop(self, products: int = 0) -> None:
        """The Shift4Shop simulator with SKU-00001..`products` (stock 100 each); write log on."""
        self.processes["shop"] = ManagedProcess.python_module(
            "shift4shop-sim", "sagebridge_sim.shift4shop", self.shop_env, self.logs,
            ["--port", str(self.ports["shop"]), "--seed-products", str(products), "--log-level", "warning"],
            ready_url=f"{self.shop_url}/_sim/stats").start()
        self.processes["shop"].wait_ready(60)

    def start_sage(self) -> None:
        """The Sage 300 simulator with the demo company, its web customer set to refuse duplicate POs
        (README: one Sage call per order), as the dev stack starts it."""
        self.processes["sage300"] = ManagedProcess.python_module(
            "sage300-sim", "sagebridge_sim.sage300", {}, self.logs,
            ["--port", str(self.ports["sage300"]), "--db", str(self.work / "sage300.sqlite"), "--company", "SAMINC",
             "--user", "WEBAPI", "--password", self.sage_password, "--seed-demo"],
            ready_url=f"{self.sage_url}/_sim/stats").start()
        self.processes["sage300"].wait_ready(60)
        self.http.post(f"{self.sage_url}/_sim/customers/WEBCUST",
                       json={"CheckForDuplicatePOs": "Error"}).raise_for_status()

    # -- simulator admin -------------------------------------------------------------------------
    def _post(self, url: str, body: Any) -> Any:
        r = self.http.post(url, json=body)
        r.raise_for_status()
        return r.json()

    def shop_faults(self, **plan: Any) -> dict:
        return self._post(f"{self.shop_url}/_sim/faults", plan)

    def sage_faults(self, **plan: Any) -> dict:
        return self._post(f"{self.sage_url}/_sim/faults", plan)

    def writes(self, since: int = 0, kind: str | None = None) -> dict:
        params: dict[str, Any] = {"since": since, "limit": 100_000}
        if kind:
            params["kind"] = kind
        r = self.http.get(f"{self.shop_url}/_sim/writes", params=params)
        r.raise_for_status()
        return r.json()

    def writes_summary(self) -> dict:
        return self.http.get(f"{self.shop_url}/_sim/writes/summary").json()

    def clear_writes(self) -> None:
        self.http.delete(f"{self.shop_url}/_sim/writes").raise_for_status()

    def product(self, sku: str) -> dict:
        r = self.http.get(f"{self.shop_url}/_sim/products/by-sku/{sku}")
        r.raise_for_status()
        return r.json()

    def sage_orders(self) -> list[dict]:
        r = self.http.get(f"{self.sage_url}/_sim/orders", timeout=60)
        r.raise_for_status()
        return r.json()

    def sage_stats(self) -> dict:
        return self.http.get(f"{self.sage_url}/_sim/stats").json()

    # -- the pair file ---------------------------------------------------------------------------
    def write_pair(self, store: dict[str, Any] | None = None) -> Path:
        data, self.pair_source = base_pair()
        data["pair"] = self.pair_id
        data["store_time_zone"] = "America/New_York"           # the simulator's default zone
        data["storefront"] = {**data["storefront"], "api_url": "${SHIFT4SHOP_API_URL}",
                              "secure_url": "${SHIFT4SHOP_SECURE_URL}", "private_key": "${SHIFT4SHOP_PRIVATE_KEY}",
                              "token": "${SHIFT4SHOP_TOKEN}", "webhook_token": "${SHIFT4SHOP_WEBHOOK_TOKEN}",
                              "timeout_s": 10, **(store or {})}
        pairs = self.work / "pairs"
        pairs.mkdir(parents=True, exist_ok=True)
        (pairs / f"{self.pair_id}.yaml").write_text(
            f"# Written by bench/shift4shop_rig.py from {self.pair_source}\n" + yaml.safe_dump(data, sort_keys=False))
        return pairs

    def storefront_setting(self, key: str) -> Any:
        return yaml.safe_load((self.work / "pairs" / f"{self.pair_id}.yaml").read_text())["storefront"].get(key)

    # -- services --------------------------------------------------------------------------------
    def service_env(self, name: str) -> dict[str, str]:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id,
               "PAIRS_PATH": str(self.work / "pairs"), "LOG_LEVEL": "WARNING", "OPS_HOST": "127.0.0.1",
               "OPS_PORT": str(self.ports[name]), "PYTHONUNBUFFERED": "1", "SHIFT4SHOP_API_URL": self.api_url,
               "SHIFT4SHOP_WEBHOOK_TOKEN": self.webhook_token, **self.shop_env}
        if name == "ingest":
            env |= {"HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.ports["ingest-http"])}
        elif name == "erp-writer":
            env |= {"SAGE300_BASE_URL": self.sage_url, "SAGE300_COMPANY": "SAMINC", "SAGE300_USER": "WEBAPI",
                    "SAGE300_PASSWORD": self.sage_password}
        return env

    def start_services(self, names: list[str], env: dict[str, dict[str, str]] | None = None,
                       timeout: float = 90.0) -> None:
        for name in names:
            e = self.service_env(name) | (env or {}).get(name, {})
            self.services[name] = ManagedProcess(name, [sys.executable, "-m", SERVICE_MODULES[name]], e, self.logs,
                                                 ready_url=f"{self.ops_url(name)}/readyz").start()
        for name in names:
            self.services[name].wait_ready(timeout)

    def metrics(self, name: str) -> str:
        return self.http.get(f"{self.ops_url(name)}/metrics", timeout=10).text

    def metric(self, service: str, metric: str, **labels: str) -> float:
        return metric_value(self.metrics(service), metric, **labels)

    def call_times(self, service: str) -> dict[str, dict[str, float]]:
        """The service's external calls by operation: count and mean ms since it started."""
        return histogram_means(self.metrics(service), "sagebridge_connector_request_duration_seconds", "operation")

    def pids(self) -> dict[str, int]:
        procs = {**self.services, **self.processes}
        out = {n: p.proc.pid for n, p in procs.items() if p.proc}
        if self.broker and getattr(self.broker, "proc", None):
            out["broker"] = self.broker.proc.pid
        return out

    def stop(self) -> None:
        for proc in list(self.services.values()) + list(self.processes.values()):
            proc.stop()
        if self.broker:
            self.broker.stop()
        self.http.close()
