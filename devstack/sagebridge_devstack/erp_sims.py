"""The ERP side of each integration pair the dev stack can run, as store_sims.py is the store side:
which ERP simulator starts, with what made-up credentials, what it is seeded with and what the
hub's services are told about it.

- `Sage300Erp` (`*-sage300` pairs): the Sage 300 Web API simulator, its tables in SQLite, read by
  erp-cdc through the SQLite3 ODBC driver (the pair file's `erp.database` block is added by the
  stack, as production points it at SQL Server);
- `IntacctErp` (`xcart-intacct`): the Sage Intacct XML gateway simulator; change capture reads it
  through the same gateway (readByQuery on WHENMODIFIED), so the shipped pair file serves as is;
- `SageProErp` (`xcart-sagepro`): Sage Pro has no API, its tables are the ERP (reference
  sage300_sagepro.md §3): the stack builds them in a SQLite file (or the tests hand it a
  PostgreSQL database), reached by erp-writer and erp-cdc through ODBC, and runs the simulator's
  HTTP control app beside it for the ERP-side changes (stock, prices, shipments).

Credentials are made up per run with `secrets` and go to the simulator and the services in their
environment (never on a command line). The variable names are those the shipped pair files read.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from .processes import ManagedProcess
from .sim_base import SimulatorSide

if TYPE_CHECKING:
    from .stack import Stack

INTACCT_COMPANY = "SAGEBRIDGE-DEV"
INTACCT_USER = "xml_gateway"
INTACCT_TIME_ZONE = "America/Los_Angeles"      # the pair file's default company zone


class ErpSim(SimulatorSide):
    """What the stack needs from an ERP simulator; `Stack` calls `process()` beside the store's,
    `seed()` once both answer, then `service_env()` for every service it starts."""

    port_name = "erp"

    def prepare(self, service: str) -> None:
        """Called before `service` starts (Sage 300: erp-cdc's pair file with its database block)."""


class Sage300Erp(ErpSim):
    """The Sage 300 simulator exactly as the stack always ran it (paths and password stay on the
    Stack, where the Sage 300 tests and benchmarks read them)."""

    kind, name, port_name = "sage300", "Sage 300", "sage300"

    def state_files(self) -> list[Path]:
        db = self.stack.sage_db
        return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]

    def process(self) -> ManagedProcess:
        s = self.stack
        return ManagedProcess.python_module(
            "sage300-sim", "sagebridge_sim.sage300", {}, s.logs,
            ["--port", str(s.ports["sage300"]), "--db", str(s.sage_db),
             "--company", "SAMINC", "--user", "WEBAPI", "--password", s.sage_password, "--seed-demo"],
            ready_url=f"{self.url}/_sim/stats")

    def seed(self) -> None:
        httpx.post(f"{self.url}/_sim/customers/WEBCUST", timeout=10,
                   json={"CheckForDuplicatePOs": self.stack.config.web_customer_duplicate_po_check}
                   ).raise_for_status()

    def service_env(self, service: str) -> dict[str, str]:
        s = self.stack
        if service == "erp-writer":
            return {"SAGE300_BASE_URL": self.url, "SAGE300_COMPANY": "SAMINC", "SAGE300_USER": "WEBAPI",
                    "SAGE300_PASSWORD": s.sage_password}
        if service == "erp-cdc":
            return {"SAGE300_COMPANY": "SAMINC", "SAGE300_DB_CONNECTION": s.sage_db_connection}
        return {}

    def prepare(self, service: str) -> None:
        if service == "erp-cdc":
            self.stack.write_cdc_pair()

    def describe(self) -> list[tuple[str, str]]:
        s = self.stack
        return [("Sage 300 simulator", f"{self.url}/Sage300WebApi   (orders: GET /_sim/orders; ERP-side changes: "
                                       "POST /_sim/erp/stock|price|item|ship)"),
                ("Sage 300 database", f"{s.sage_db}   (erp-cdc reads it through the SQLite3 ODBC driver)")]


class IntacctErp(ErpSim):
    """The Sage Intacct simulator: the Web Services sender (id and password) and the company's API
    user are made up per run; the company works in America/Los_Angeles, as the pair file assumes.
    The hub logs in at `/ia/xml/xmlgw.phtml` and works on the session endpoint the login names."""

    kind, name, port_name = "intacct", "Sage Intacct", "intacct"

    def __init__(self, stack: "Stack") -> None:
        super().__init__(stack)
        self.sender_id = f"sagebridge-{secrets.token_hex(3)}"
        self.sender_password = secrets.token_hex(12)
        self.company_id = INTACCT_COMPANY
        self.user_id = INTACCT_USER
        self.user_password = secrets.token_hex(12)

    @property
    def gateway_url(self) -> str:
        return f"{self.url}/ia/xml/xmlgw.phtml"

    def credentials_env(self) -> dict[str, str]:
        return {"INTACCT_SENDER_ID": self.sender_id, "INTACCT_SENDER_PASSWORD": self.sender_password,
                "INTACCT_COMPANY_ID": self.company_id, "INTACCT_USER_ID": self.user_id,
                "INTACCT_USER_PASSWORD": self.user_password}

    def process(self) -> ManagedProcess:
        env = self.credentials_env() | {"INTACCT_TIME_ZONE": INTACCT_TIME_ZONE}
        return ManagedProcess.python_module(
            "intacct-sim", "sagebridge_sim.intacct", env, self.stack.logs,
            ["--host", "127.0.0.1", "--port", str(self.stack.ports["intacct"])],
            ready_url=f"{self.url}/_sim/transactions")

    def service_env(self, service: str) -> dict[str, str]:
        if service not in ("erp-writer", "erp-cdc"):
            return {}
        return self.credentials_env() | {
            "INTACCT_ENDPOINT_URL": self.gateway_url, "INTACCT_COMPANY_TIME_ZONE": INTACCT_TIME_ZONE,
            "INTACCT_POLL_INTERVAL_S": str(self.stack.config.cdc_poll_interval_s)}

    def describe(self) -> list[tuple[str, str]]:
        return [("Intacct simulator", f"{self.gateway_url}   (state: GET /_sim/state; ERP-side changes: "
                                      "POST /_sim/stock|items|ship|invoice)")]


class SageProErp(ErpSim):
    """Sage Pro's company tables (the default layout, company 01) with the simulator's demo seed, and
    its control app (`python -m sagebridge_sim.sagepro`) changing them as Sage Pro's own screens
    would. The embedded default is a SQLite file through the SQLite3 ODBC driver, created here on a
    fresh start (WAL, so a scan never blocks the writer); `StackConfig.erp_connection` names an
    existing database instead (the tests' PostgreSQL through psqlODBC, built by the test)."""

    kind, name, port_name = "sagepro", "Sage Pro", "sagepro"
    company = "01"

    @property
    def db_file(self) -> Path:
        return self.stack.work / "sagepro.sqlite"

    @property
    def dialect(self) -> str:
        return self.stack.config.erp_dialect if self.stack.config.erp_connection else "sqlite"

    @property
    def connection(self) -> str:
        """The ODBC connection string every process uses (in their environment, never on argv)."""
        given = self.stack.config.erp_connection
        return given or f"DRIVER={{SQLite3}};Database={self.db_file};Timeout=10000"

    def state_files(self) -> list[Path]:
        if self.stack.config.erp_connection:
            return []
        db = self.db_file
        return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]

    def create_database(self) -> None:
        """The tables (WAL journal) and the demo company in a new SQLite file; a kept one (--keep)
        and a given database are left as they are."""
        if self.stack.config.erp_connection or self.db_file.exists():
            return
        from sagebridge_sim.sagepro.db import SageProDb
        from sagebridge_sim.sagepro.demo import ensure_schema, seed_demo

        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        db = SageProDb(self.connection, company=self.company)
        ensure_schema(db)
        seed_demo(db)

    def process(self) -> ManagedProcess:
        self.create_database()
        s = self.stack
        return ManagedProcess.python_module(
            "sagepro-sim", "sagebridge_sim.sagepro",
            {"SAGEPRO_SIM_DB": self.connection}, s.logs,
            ["--host", "127.0.0.1", "--port", str(s.ports["sagepro"]), "--company", self.company],
            ready_url=f"{self.url}/_sim/stats")

    def service_env(self, service: str) -> dict[str, str]:
        if service not in ("erp-writer", "erp-cdc"):
            return {}
        return {"SAGEPRO_CONNECTION": self.connection, "SAGEPRO_DIALECT": self.dialect,
                "SAGEPRO_COMPANY": self.company, "SAGEPRO_SCAN_INTERVAL_S": str(self.stack.config.cdc_poll_interval_s)}

    def describe(self) -> list[tuple[str, str]]:
        where = "the tests' database" if self.stack.config.erp_connection else str(self.db_file)
        return [("Sage Pro simulator", f"{self.url}   (ERP-side changes: POST /_sim/stock|price|item|ship)"),
                ("Sage Pro database", f"{where}   (erp-writer and erp-cdc through ODBC, dialect {self.dialect})")]


ERPS: dict[str, type[ErpSim]] = {"sage300": Sage300Erp, "intacct": IntacctErp, "sagepro": SageProErp}


def erp_for(stack: "Stack") -> ErpSim:
    """The pair's ERP simulator: the pair id's last part names the ERP (`xcart-intacct`)."""
    kind = stack.pair_id.rsplit("-", 1)[-1]
    try:
        return ERPS[kind](stack)
    except KeyError:
        raise ValueError(f"pair {stack.pair_id!r}: no ERP simulator for {kind!r}") from None
