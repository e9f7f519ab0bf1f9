"""The whole system on one machine: broker, simulators, topics, services.

Both directions run: X-Cart orders (and profiles, payments, refunds) through ingest, transform and
erp-writer into Sage 300, and Sage 300's own changes (stock, prices, items, shipments, order
completion, customers) through erp-cdc (reading the Sage simulator's SQLite database through the
SQLite3 ODBC driver, as production reads SQL Server), transform and storefront-writer into X-Cart.

Used by `sagebridge-dev up` (the README's first command) and by the integration tests, so what the
tests exercise is exactly what a merchant runs on a laptop. Credentials for the simulators are made
up per run; nothing secret is stored in the repo.
"""
from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings

from .broker import EmbeddedBroker
from .processes import ManagedProcess, free_port, stop_all
from .store_catalogue import seed_store

REPO = Path(__file__).resolve().parents[2]
SERVICE_MODULES = {
    "ingest": "sagebridge_ingest.main",
    "transform": "sagebridge_transform.main",
    "erp-writer": "sagebridge_erp_writer.main",
    "erp-cdc": "sagebridge_erp_cdc.main",
    "storefront-writer": "sagebridge_storefront_writer.main",
}


@dataclass
class StackConfig:
    work_dir: Path
    bootstrap: str | None = None                # None: start the embedded tansu broker
    partitions: int = 4
    poll_enabled: bool = True
    poll_interval_s: float = 1.0
    cdc_poll_interval_s: float = 1.0            # erp-cdc: seconds between polls of each Sage table
    webhook_push: bool = False                  # X-Cart sim pushes signed notifications to ingest
    keep_state: bool = False                    # False: the simulators start from empty state in work_dir
    # The web customer's Sage 300 option "Check for duplicate POs", set as the README recommends
    # (Error: one Sage call per order); "None" makes the writer look every order up first.
    web_customer_duplicate_po_check: str = "Error"
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per-service overrides
    # The services start() runs (default: all); a benchmark of one direction may leave the other out.
    services: tuple[str, ...] = tuple(SERVICE_MODULES)


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.work = config.work_dir
        self.logs = self.work / "logs"
        self.broker: EmbeddedBroker | None = None
        self.bootstrap = config.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or ""
        self.xcart_token = secrets.token_hex(16)
        self.xcart_read_token = secrets.token_hex(16)
        self.xcart_module_token = secrets.token_hex(16)      # the push module's tracking endpoint
        self.sage_password = secrets.token_hex(12)
        self.webhook_secret = secrets.token_hex(24)
        self.pair_id = "xcart-sage300"
        self.ports = {name: free_port() for name in ("xcart", "sage300", "ingest-http", *[f"ops-{s}" for s in SERVICE_MODULES])}
        self.simulators: dict[str, ManagedProcess] = {}
        self.services: dict[str, ManagedProcess] = {}

    # -- urls ------------------------------------------------------------------------------------
    @property
    def xcart_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['xcart']}"

    @property
    def sage_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sage300']}"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingest-http']}/webhooks/xcart/{self.pair_id}"

    def ops_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports['ops-' + service]}"

    # -- simulator state in the work dir -----------------------------------------------------------
    @property
    def sage_db(self) -> Path:
        return self.work / "sage300.sqlite"

    @property
    def sage_db_connection(self) -> str:
        """ODBC connection string of the Sage simulator's database: what erp-cdc reads (the same
        file the simulator writes through the same driver)."""
        return f"DRIVER={{SQLite3}};Database={self.sage_db};Timeout=10000"

    @property
    def cdc_pairs(self) -> Path:
        """Where erp-cdc's pair file is: the shipped one with its `erp.database` block (commented out
        there: a pair without it has no change capture) pointed at the simulator's database."""
        return self.work / "pairs-cdc"

    def write_cdc_pair(self) -> Path:
        """The shipped pair file plus the database block; the connection string stays a
        `${SAGE300_DB_CONNECTION}` reference, given to erp-cdc in its environment."""
        shipped = REPO / "pairs" / f"{self.pair_id}.yaml"
        pair = yaml.safe_load(shipped.read_text())
        pair["erp"]["database"] = {"connection_string": "${SAGE300_DB_CONNECTION}", "dialect": "sqlite",
                                   "time_zone": "UTC", "poll_interval_s": self.config.cdc_poll_interval_s}
        self.cdc_pairs.mkdir(parents=True, exist_ok=True)
        path = self.cdc_pairs / shipped.name
        path.write_text(f"# Written by the dev stack from pairs/{shipped.name}; do not edit.\n"
                        + yaml.safe_dump(pair, sort_keys=False, allow_unicode=True))
        return path

    @property
    def xcart_state(self) -> Path:
        return self.work / "xcart-orders.json"

    def reset_simulator_state(self) -> None:
        """Deletes what the simulators keep between runs. The two must go together: the Sage 300
        database holds orders by X-Cart order number, so a kept database beside an X-Cart store that
        numbers from 1 again turns nearly every new order into an "already present" one."""
        for path in (self.sage_db, self.sage_db.with_name(self.sage_db.name + "-wal"),
                     self.sage_db.with_name(self.sage_db.name + "-shm"), self.xcart_state):
            path.unlink(missing_ok=True)

    # -- lifecycle -----------------------------------------------------------------------------
    def start_broker(self) -> None:
        if not self.bootstrap:
            self.broker = EmbeddedBroker(log_path=self.logs / "broker.log")
            self.logs.mkdir(parents=True, exist_ok=True)
            self.broker.start()
            self.bootstrap = self.broker.bootstrap

    def apply_topics(self) -> topics.ApplyReport:
        settings = Settings(kafka_bootstrap_servers=self.bootstrap)
        return topics.apply(make_admin(settings), topics.catalogue(self.config.partitions))

    def start_simulators(self) -> None:
        if not self.config.keep_state:
            self.reset_simulator_state()
        push = ["--push-url", self.webhook_url, "--push-secret", self.webhook_secret] if self.config.webhook_push else []
        tokens = {"XCART_TOKEN_READ": self.xcart_read_token, "XCART_TOKEN_ALL": self.xcart_token,
                  "XCART_MODULE_TOKEN": self.xcart_module_token}      # secrets: environment, not argv
        self.simulators["xcart"] = ManagedProcess.python_module(
            "xcart-sim", "sagebridge_sim.xcart", tokens, self.logs,
            ["--port", str(self.ports["xcart"]), "--state-file", str(self.xcart_state), *push],
            ready_url=f"{self.xcart_url}/_sim/stats").start()
        self.simulators["sage300"] = ManagedProcess.python_module(
            "sage300-sim", "sagebridge_sim.sage300", {}, self.logs,
            ["--port", str(self.ports["sage300"]), "--db", str(self.sage_db),
             "--company", "SAMINC", "--user", "WEBAPI", "--password", self.sage_password, "--seed-demo"],
            ready_url=f"{self.sage_url}/_sim/stats").start()
        for sim in self.simulators.values():
            sim.wait_ready()
        seed_store(self.xcart_url)
        httpx.post(f"{self.sage_url}/_sim/customers/WEBCUST", timeout=10,
                   json={"CheckForDuplicatePOs": self.config.web_customer_duplicate_po_check}).raise_for_status()

    def service_env(self, name: str) -> dict[str, str]:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id, "LOG_LEVEL": "INFO",
               "OPS_HOST": "127.0.0.1", "OPS_PORT": str(self.ports["ops-" + name]), "PYTHONUNBUFFERED": "1"}
        if name == "ingest":
            env |= {"XCART_BASE_URL": self.xcart_url, "XCART_TOKEN": self.xcart_read_token,
                    "WEBHOOK_SECRET": self.webhook_secret, "HTTP_HOST": "127.0.0.1",
                    "HTTP_PORT": str(self.ports["ingest-http"]),
                    "POLL_ENABLED": str(self.config.poll_enabled).lower(),
                    "POLL_INTERVAL_S": str(self.config.poll_interval_s)}
        elif name == "transform":
            env |= {"PAIRS_PATH": str(REPO / "pairs")}
        elif name == "erp-writer":
            env |= {"SAGE300_BASE_URL": self.sage_url, "SAGE300_COMPANY": "SAMINC", "SAGE300_USER": "WEBAPI",
                    "SAGE300_PASSWORD": self.sage_password}
        elif name == "erp-cdc":
            env |= {"PAIRS_PATH": str(self.cdc_pairs), "SAGE300_COMPANY": "SAMINC",
                    "SAGE300_DB_CONNECTION": self.sage_db_connection}
        elif name == "storefront-writer":
            env |= {"PAIRS_PATH": str(REPO / "pairs"), "XCART_BASE_URL": self.xcart_url,
                    "XCART_TOKEN": self.xcart_token, "XCART_MODULE_TOKEN": self.xcart_module_token}
        return env | self.config.service_env.get(name, {})

    def start_service(self, name: str, wait: bool = True) -> ManagedProcess:
        if name == "erp-cdc":
            self.write_cdc_pair()
        proc = ManagedProcess(name, [sys.executable, "-m", SERVICE_MODULES[name]], self.service_env(name), self.logs,
                              ready_url=f"{self.ops_url(name)}/readyz").start()
        self.services[name] = proc
        if wait:
            proc.wait_ready()
        return proc

    def start(self) -> "Stack":
        self.work.mkdir(parents=True, exist_ok=True)
        self.start_broker()
        self.apply_topics()
        self.start_simulators()
        for name in self.config.services:
            self.start_service(name, wait=False)
        for proc in self.services.values():
            proc.wait_ready()
        return self

    def stop(self) -> None:
        # The services first, side by side (each commits and leaves its group on the broker and
        # may finish a call to a simulator), then the simulators, then the broker.
        stop_all(list(self.services.values()))
        stop_all(list(self.simulators.values()))
        if self.broker:
            self.broker.stop()

    def __enter__(self) -> "Stack":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
