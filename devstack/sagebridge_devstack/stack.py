"""The whole system on one machine: broker, simulators, topics, services.

`StackConfig.pair` picks the integration pair and so both simulators: the store (store_sims.py):
X-Cart (`xcart-sage300`, the default, and `xcart-intacct`), Shift4Shop REST (`3dcart-sage300`) or the
legacy 3dcart SOAP service (`3dcartsoap-sage300`); and the ERP (erp_sims.py): Sage 300 for the
`*-sage300` pairs, Sage Intacct (its XML gateway, change capture by readByQuery) for `xcart-intacct`,
Sage Pro (its tables through ODBC, change capture by snapshot diff) for `xcart-sagepro`.
The X-Cart / Sage 300 pair is described below; the others differ in the store (orders found by
polling and, for Shift4Shop, webhooks) or in the ERP.

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
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sagebridge_common import topics
from sagebridge_common.kafka_clients import make_admin
from sagebridge_common.settings import Settings

from .broker import EmbeddedBroker
from .processes import ManagedProcess, free_port, stop_all
from .erp_sims import ErpSim, erp_for
from .store_sims import DEFAULT_PAIR, STORES, StoreSim, store_for

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
    pair: str = DEFAULT_PAIR                    # store_sims.PAIRS: which store simulator and pair file
    bootstrap: str | None = None                # None: start the embedded tansu broker
    partitions: int = 4
    poll_enabled: bool = True
    poll_interval_s: float = 1.0
    cdc_poll_interval_s: float = 1.0            # erp-cdc: seconds between polls of each Sage table
    webhook_push: bool = False                  # X-Cart sim pushes signed notifications to ingest;
                                                # Shift4Shop: webhooks registered in the sim (POST /Webhooks)
    webhook_format: str = "JSON"                # Shift4Shop webhooks: JSON | XML
    # The store's zone (3dcart pairs: simulator clock and every service's STORE_TIME_ZONE); None =
    # $STORE_TIME_ZONE, else the pair file's default. X-Cart stores give UTC epochs: not used.
    store_time_zone: str | None = None
    keep_state: bool = False                    # False: the simulators start from empty state in work_dir
    # The web customer's Sage 300 option "Check for duplicate POs", set as the README recommends
    # (Error: one Sage call per order); "None" makes the writer look every order up first.
    web_customer_duplicate_po_check: str = "Error"
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # per-service overrides
    # Sage Pro pairs: an existing database (ODBC connection string, the tests' PostgreSQL) and its
    # dialect instead of the SQLite file the stack creates in work_dir.
    erp_connection: str = ""
    erp_dialect: str = "sqlite"
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
        self.pair_id = config.pair
        if config.pair not in STORES:
            raise ValueError(f"unknown pair {config.pair!r}; the dev stack runs {', '.join(STORES)}")
        self.erp: ErpSim = erp_for(self)              # (reads self.ports only once started)
        self.ports = {name: free_port() for name in (STORES[config.pair].port_name, self.erp.port_name, "ingest-http",
                                                     *[f"ops-{s}" for s in SERVICE_MODULES])}
        self.pair_file = REPO / "pairs" / f"{self.pair_id}.yaml"
        self.store_time_zone = config.store_time_zone or os.environ.get("STORE_TIME_ZONE") or self._pair_zone()
        self.first_invoice_number = 1000             # 3dcart stores; --keep continues after Sage's last
        # 3dcart OrderIDs: the hub's keyed state knows orders by them, so two stacks of one pair on one
        # broker (tests) must not reuse them; 5001 also keeps them clear of X-Cart's small order ids
        self.first_order_id = 5001
        self.store: StoreSim = store_for(self)
        self.simulators: dict[str, ManagedProcess] = {}
        self.services: dict[str, ManagedProcess] = {}

    def _pair_zone(self) -> str:
        """The pair file's `store_time_zone` default (`${STORE_TIME_ZONE:-America/New_York}`)."""
        raw = str(yaml.safe_load(self.pair_file.read_text()).get("store_time_zone") or "UTC")
        found = re.fullmatch(r"\$\{STORE_TIME_ZONE(?::-(.*))?\}", raw.strip())
        return (found.group(1) or "UTC") if found else raw

    # -- urls ------------------------------------------------------------------------------------
    @property
    def store_url(self) -> str:
        return self.store.url

    @property
    def xcart_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['xcart']}"

    @property
    def sage_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sage300']}"

    @property
    def erp_url(self) -> str:
        return self.erp.url

    @property
    def intacct_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['intacct']}"

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
        shipped = self.pair_file
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
        for path in (*self.erp.state_files(), *self.store.state_files()):
            path.unlink(missing_ok=True)

    def _continue_invoice_numbers(self) -> None:
        """--keep with a 3dcart store (which keeps nothing): number its orders after the highest one
        the kept Sage 300 database holds for this pair, so new orders are not "already present"."""
        if not self.sage_db.exists():
            return
        from sagebridge_sim.sage300.db import Sage300Database
        prefix = str(yaml.safe_load(self.pair_file.read_text())["reference_prefix"])
        db = Sage300Database(str(self.sage_db))
        try:
            refs = [h["REFERENCE"].strip() for h, _ in db.order_rows()]
        finally:
            db.close()
        numbers = [int(m.group(1)) for r in refs if r.startswith(prefix) and (m := re.search(r"(\d+)$", r))]
        if numbers:
            self.first_invoice_number = max(numbers) + 1

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
        elif self.store.kind != "xcart" and self.erp.kind == "sage300":
            self._continue_invoice_numbers()
        self.simulators[self.store.port_name] = self.store.process().start()
        self.simulators[self.erp.port_name] = self.erp.process().start()
        for sim in self.simulators.values():
            sim.wait_ready()
        self.store.seed()
        self.erp.seed()

    def service_env(self, name: str) -> dict[str, str]:
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PAIR_ID": self.pair_id, "LOG_LEVEL": "INFO",
               "OPS_HOST": "127.0.0.1", "OPS_PORT": str(self.ports["ops-" + name]), "PYTHONUNBUFFERED": "1"}
        # the pair's own file, not the directory: a service loads (and validates) every file it is given
        env["PAIRS_PATH"] = str(self.pair_file)
        if self.store.kind != "xcart":
            env["STORE_TIME_ZONE"] = self.store_time_zone
        env |= self.store.service_env(name)
        env |= self.erp.service_env(name)
        if name == "ingest":
            env |= {"HTTP_HOST": "127.0.0.1",
                    "HTTP_PORT": str(self.ports["ingest-http"]),
                    "POLL_ENABLED": str(self.config.poll_enabled).lower(),
                    "POLL_INTERVAL_S": str(self.config.poll_interval_s)}
        if name == "erp-cdc" and self.erp.kind == "sage300":
            env["PAIRS_PATH"] = str(self.cdc_pairs)         # the shipped file plus its database block
        return env | self.config.service_env.get(name, {})

    def start_service(self, name: str, wait: bool = True) -> ManagedProcess:
        self.erp.prepare(name)
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
        """Services first, side by side (each commits and leaves its group on the broker and may
        finish a call to a simulator), then the simulators, then the broker."""
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
