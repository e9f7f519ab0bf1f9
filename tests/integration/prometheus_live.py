"""A real Prometheus (Debian's package, installed by scripts/setup.sh) scraping the dev stack's
services with given alert rules, and the few HTTP API reads the tests make of it."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from sagebridge_devstack.processes import wait_until

PROMETHEUS = "/usr/bin/prometheus"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LivePrometheus:
    """Scrapes each `targets` (job -> host:port) every second, labelled with `labels`, and evaluates
    `rules` (an alerts.yml document) every second."""

    def __init__(self, work: Path, targets: dict[str, str], rules: dict, labels: dict[str, str]) -> None:
        if not shutil.which(PROMETHEUS):
            raise RuntimeError(f"{PROMETHEUS} missing: scripts/setup.sh installs Debian's prometheus package")
        work.mkdir(parents=True, exist_ok=True)
        (work / "alerts.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
        (work / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["alerts.yml"],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target], "labels": labels}]}
                               for job, target in targets.items()],
        }))
        self.base = f"http://127.0.0.1:{_free_port()}"
        self._log = open(work / "prometheus.log", "w")
        self.proc = subprocess.Popen([PROMETHEUS, f"--config.file={work / 'prometheus.yml'}",
                                      f"--storage.tsdb.path={work / 'data'}",
                                      f"--web.listen-address={self.base.removeprefix('http://')}"],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=20, message="prometheus ready")

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited rc={self.proc.returncode}")
        try:
            with urllib.request.urlopen(f"{self.base}/-/ready", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def get(self, path: str, **params) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}" if params else f"{self.base}{path}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = json.loads(resp.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.get("/api/v1/query", query=expr)["result"]

    def alerts(self, name: str, state: str | None = None) -> list[dict]:
        """Active alerts (pending or firing) of one rule, as /api/v1/alerts lists them."""
        return [a for a in self.get("/api/v1/alerts")["alerts"]
                if a["labels"]["alertname"] == name and (state is None or a["state"] == state)]

    def rule_health(self) -> dict[str, str]:
        return {r["name"]: r["health"] for g in self.get("/api/v1/rules")["groups"] for r in g["rules"]}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
