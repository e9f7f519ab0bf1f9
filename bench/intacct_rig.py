"""What the Sage Intacct benchmarks start: the embedded broker and the topic catalogue, the Intacct
XML gateway simulator as its own process (`python -m sagebridge_sim.intacct`, demo company), the
shipped `pairs/xcart-intacct.yaml` copied into the run's work dir, and the services as real
processes (erp-writer, erp-cdc, transform) — each optional, all stopped in `stop()`.

The pair file is copied unchanged: the gateway URL and the credentials reach it through its own
`${INTACCT_*}` placeholders, set in each service's environment (made up per run, never on a
command line). The devstack's `Stack` knows only the Sage 300 pair; like `erp_store_rig.py`, this
reuses its broker and process helpers rather than growing it for benchmarks.
"""
from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from common import REPO, metric_value
from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings
from sagebridge_devstack.broker import EmbeddedBroker
from sagebridge_devstack.processes import ManagedProcess, free_port

SHIPPED_PAIR = REPO / "pairs" / "xcart-intacct.yaml"
PAIR_ID = "xcart-intacct"
SERVICE_MODULES = {"erp-writer": "sagebridge_erp_writer.main", "erp-cdc": "sagebridge_erp_cdc.main",
                   "transform": "sagebridge_transform.main"}
LOGIN_PATH = "/ia/xml/xmlgw.phtml"


class IntacctRig:
    def __init__(self, work: Path, *, partitions: int = 4) -> None:
        self.work, self.logs = work, work / "logs"
        self.partitions = partitions
        self.pair_id = PAIR_ID
        self.broker: EmbeddedBroker | None = None
        self.bootstrap = ""
        self.sim: ManagedProcess | None = None
        self.sim_port = free_port()
        self.creds = {"INTACCT_SENDER_ID": "bench-sender", "INTACCT_SENDER_PASSWORD": secrets.token_hex(12),
                      "INTACCT_COMPANY_ID": "BENCHCO", "INTACCT_USER_ID": "bench-api",
                      "INTACCT_USER_PASSWORD": secrets.token_hex(12)}
        self.services: dict[str, ManagedProcess] = {}
        self.ops_ports = {name: free_port() for name in SERVICE_MODULES}
        self.http = httpx.Client(timeout=60)

    # -- pieces --------------------------------------------------------------------------------
    def start_broker(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(log_path=self.logs / "broker.log")
        self.broker.start()
        self.bootstrap = self.broker.bootstrap
        topics.apply(make_admin(Settings(kafka_bootstrap_servers=self.bootstrap)), topics.catalogue(self.partitions))

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def start_sim(self) -> None:
        """The simulator with the demo company (warehouses WH1/WH2, N30, UPS Ground, the demo SKUs)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.sim = ManagedProcess.python_module(
            "intacct-sim", "sagebridge_sim.intacct", dict(self.creds), self.logs,
            ["--port", str(self.sim_port), "--log-level", "warning"],
            ready_url=f"{self.sim_url}/_sim/transactions").start()
        self.sim.wait_ready(60)

    def write_pair(self) -> Path:
        pairs = self.work / "pairs"
        pairs.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHIPPED_PAIR, pairs / SHIPPED_PAIR.name)
        return pairs

    # -- simulator admin API --------------------------------------------------------------------
    def faults(self, **plan: Any) -> dict:
        r = self.http.post(f"{self.sim_url}/_sim/faults", json=plan)
        r.raise_for_status()
        return r.json()

    def get_faults(self) -> dict:
        return self.http.get(f"{self.sim_url}/_sim/faults").json()

    def transactions(self) -> dict:
        return self.http.get(f"{self.sim_url}/_sim/transactions").json()

    def state(self) -> dict:
        r = self.http.get(f"{self.sim_url}/_sim/state")
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict) -> dict:
        r = self.http.post(f"{self.sim_url}{path}", json=body)
        r.raise_for_status()
        return r.json()

    # -- services -------------------------------------------------------------------------------
    def ops_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ops_ports[name]}"

    def service_env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id,
                "PAIRS_PATH": str(self.work / "pairs"), "LOG_LEVEL": "WARNING", "OPS_HOST": "127.0.0.1",
                "OPS_PORT": str(self.ops_ports[name]), "PYTHONUNBUFFERED": "1",
                "INTACCT_ENDPOINT_URL": self.sim_url + LOGIN_PATH, **self.creds, **(extra or {})}

    def start_services(self, names: list[str], env: dict[str, dict[str, str]] | None = None,
                       timeout: float = 90.0) -> None:
        for name in names:
            self.services[name] = ManagedProcess(name, [sys.executable, "-m", SERVICE_MODULES[name]],
                                                 self.service_env(name, (env or {}).get(name)), self.logs,
                                                 ready_url=f"{self.ops_url(name)}/readyz").start()
        for name in names:
            self.services[name].wait_ready(timeout)

    def metrics(self, name: str) -> str:
        return self.http.get(f"{self.ops_url(name)}/metrics", timeout=10).text

    def metric(self, service: str, metric: str, **labels: str) -> float:
        return metric_value(self.metrics(service), metric, **labels)

    def pids(self) -> dict[str, int]:
        procs = {**self.services, **({"intacct-sim": self.sim} if self.sim else {})}
        out = {n: p.proc.pid for n, p in procs.items() if p.proc}
        if self.broker and getattr(self.broker, "proc", None):
            out["broker"] = self.broker.proc.pid
        return out

    def stop(self) -> None:
        for proc in list(self.services.values()) + ([self.sim] if self.sim else []):
            proc.stop()
        if self.broker:
            self.broker.stop()
        self.http.close()
