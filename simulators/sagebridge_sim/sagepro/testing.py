"""The Sage Pro simulator for tests (this package's, the connector's, e2e): a company database on
SQLite (sqlite3odbc, a file in a temp dir) or on a given ODBC connection string (PostgreSQL through
psqlODBC, e.g. `PostgresCluster().create_database(name)`), and its control server on a loopback port.

    with running_sim(tmp_path / "sagepro.db") as sim:       # or running_sim(pg.create_database("t1"))
        sim.connection_string    # what the hub's writer and capture connect with
        sim.driver.set_stock("WIDGET-1", Decimal("7"))      # in-process, or over HTTP:
        sim.post("ship", {"ponum": "XP1-00042", "tracking": "1Z999"})
        sim.state_of_order(ponum="XP1-00042")               # {"header", "address", "lines"}
        with sim.lock("numbering", seconds=5):              # held on return: the writer sees a lock timeout
            ...
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import httpx

from sagebridge_connectors.sagepro.layout import Layout

from ..serve import BackgroundServer
from .app import create_app
from .db import SageProDb
from .demo import DEMO_LOCATION, ensure_schema, seed_demo
from .driver import SageProDriver
from .locks import LockHold


class Sim:
    def __init__(self, server: BackgroundServer, app) -> None:
        self.server, self.app = server, app
        self.url = server.url
        self.db: SageProDb = app.state.db
        self.driver: SageProDriver = app.state.driver
        self.connection_string = self.db.connection_string
        self.company = self.db.company
        self.http = httpx.Client(base_url=server.url, timeout=30)

    def post(self, route: str, body: dict[str, Any] | None = None, expect: int | None = 200) -> Any:
        """POST /_sim/<route>; asserts the status when `expect` is given; the JSON answer."""
        r = self.http.post(f"/_sim/{route}", json=body or {})
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r.json()

    def get(self, route: str, **params: Any) -> Any:
        r = self.http.get(f"/_sim/{route}", params={k: v for k, v in params.items() if v is not None})
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()

    def state_of_order(self, sono: str | None = None, ponum: str | None = None) -> dict[str, Any]:
        """In-process (Decimals stay Decimal)."""
        return self.driver.state_of_order(sono, ponum)

    @contextmanager
    def lock(self, table: str, seconds: float = 30.0, mode: str = "write") -> Iterator[LockHold]:
        """A lock held by another connection for the block (or `seconds`, whichever ends first)."""
        hold = self.app.state.locks.hold(table, seconds, mode)
        try:
            yield hold
        finally:
            hold.release()

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.app.state.locks.release_all()


@contextmanager
def running_sim(target: str | Path, *, company: str = "01", layout: Layout | None = None, seed: bool = True,
                create: bool = True, location: str = DEMO_LOCATION, first_number: int = 1000) -> Iterator[Sim]:
    """`target`: an SQLite file path or an ODBC connection string. `create`: build the tables when the
    database has none (from `layout`, default the connector's); `seed`: the demo company."""
    db = SageProDb(str(target), company=company, layout=layout)
    if create:
        ensure_schema(db, first_number=first_number)
    if seed:
        seed_demo(db, location=location)
    app = create_app(db, location=location)
    sim = Sim(BackgroundServer(app).start(), app)
    try:
        yield sim
    finally:
        sim.close()
