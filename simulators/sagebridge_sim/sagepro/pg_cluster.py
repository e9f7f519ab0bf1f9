"""A throwaway PostgreSQL 15 cluster for tests and benchmarks, reached through psqlODBC.

PostgreSQL 15 is installed on these machines with its cluster stopped (reference tooling.md); the
server refuses to run as root, so as root the cluster belongs to the `postgres` user. `start()`
makes a fresh data directory and a free port; `stop()` stops the server and removes the directory,
so a test session leaves nothing running (the `with` form does both).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..ports import free_port

PG_BIN = Path(os.environ.get("SAGEBRIDGE_PG_BIN", "/usr/lib/postgresql/15/bin"))
ODBC_DRIVER = "PostgreSQL Unicode"


class PostgresCluster:
    def __init__(self, database: str = "sagepro") -> None:
        self.database = database
        self.port = 0
        self.dir: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "PostgresCluster":
        self.dir = Path(tempfile.mkdtemp(prefix="sagebridge-pg-"))
        data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = free_port()
        self._run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                   "--locale=C"])
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.dir / "log"),
                   "-w", "-t", "60", "start"])
        self._run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                   self.database])
        return self

    def stop(self) -> None:
        if self.dir is None:
            return
        data = self.dir / "data"
        if (data / "postmaster.pid").exists():
            self._run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> "PostgresCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- reaching it -------------------------------------------------------------------------
    def odbc(self, database: str | None = None) -> str:
        """The psqlODBC connection string (trust authentication: no password)."""
        return (f"DRIVER={{{ODBC_DRIVER}}};SERVER=127.0.0.1;PORT={self.port};DATABASE={database or self.database};"
                f"UID=postgres;PWD=unused")

    def create_database(self, name: str) -> str:
        """A fresh database in the cluster (one per test module); its ODBC string."""
        self._run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        return self.odbc(name)

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} failed: "
                               f"{done.stderr.strip()[-500:]}")
        return done
