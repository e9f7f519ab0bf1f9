"""A real Prometheus (Debian's package, `/usr/bin/prometheus`) started for a test or a dev run:
it scrapes the given targets every second and evaluates the given rule files, and answers the
HTTP API the dashboards and alerts use. Nothing here sleeps to prove something: callers wait for
a positive signal (`wait_for`)."""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from sagebridge_sim.ports import free_port

PROMETHEUS = "/usr/bin/prometheus"


class PrometheusError(RuntimeError):
    """Prometheus is missing, exited, or a wait ran out."""


@dataclass
class LivePrometheus:
    base: str
    proc: subprocess.Popen

    def get(self, path: str, **params: str) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}" if params else f"{self.base}{path}"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())

    def query(self, expr: str) -> dict:
        return self.get("/api/v1/query", query=expr)

    def results(self, expr: str) -> list[dict]:
        """The series an instant query answers (a failed query raises)."""
        body = self.query(expr)
        if body.get("status") != "success":
            raise PrometheusError(f"query {expr!r} failed: {body}")
        return body["data"]["result"]

    def alerts(self, name: str, state: str | None = None) -> list[dict]:
        """Active alerts (pending or firing) of one rule, as /api/v1/alerts lists them."""
        return [a for a in self.get("/api/v1/alerts")["data"]["alerts"]
                if a["labels"]["alertname"] == name and (state is None or a["state"] == state)]

    def rule_health(self) -> dict[str, str]:
        """Rule name -> its evaluation health (ok, err, unknown before the first evaluation)."""
        return {r["name"]: r["health"] for g in self.get("/api/v1/rules")["data"]["groups"] for r in g["rules"]}

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Polls `predicate` until it returns something truthy; raises PrometheusError on timeout."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited rc={self.proc.returncode} while waiting for {what}")
            try:
                value = predicate()
                if value:
                    return value
            except OSError as exc:
                last_error = exc
            time.sleep(0.2)
        raise PrometheusError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")

    def wait_scraped(self, job: str, timeout: float = 15) -> None:
        """Until every target of `job` was scraped and is up."""
        def up() -> bool:
            r = self.query(f'up{{job="{job}"}}')["data"]["result"]
            return bool(r) and all(x["value"][1] == "1" for x in r)
        self.wait_for(up, timeout, f"job {job} up")

    def wait_next_scrape(self, job: str, timeout: float = 15) -> None:
        """Returns once a scrape of `job` newer than the last one seen has landed."""
        def last() -> float | None:
            r = self.query(f'max(timestamp(up{{job="{job}"}}))')["data"]["result"]
            return float(r[0]["value"][1]) if r else None
        first = self.wait_for(last, timeout, f"a scrape of {job}")
        self.wait_for(lambda: (last() or 0) > first, timeout, f"the next scrape of {job}")


def scrape_job(job: str, targets: list[str], labels: dict[str, str]) -> dict:
    """A 1 s scrape job. `honor_labels` keeps a metric's own `pair` label (change capture, ERP totals)
    instead of renaming it `exported_pair` next to the target label."""
    return {"job_name": job, "honor_labels": True, "static_configs": [{"targets": targets, "labels": labels}]}


@contextlib.contextmanager
def run_prometheus(work: Path, scrape_configs: list[dict], rule_files: list[Path] = ()) -> Iterator[LivePrometheus]:
    if not shutil.which(PROMETHEUS):
        raise PrometheusError(f"{PROMETHEUS} missing: install the Debian package `prometheus` (scripts/setup.sh does)")
    work.mkdir(parents=True, exist_ok=True)
    rules = []
    for path in rule_files:
        shutil.copy(path, work / path.name)
        rules.append(path.name)
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": rules, "scrape_configs": scrape_configs}))
    port = free_port()
    with open(work / "prometheus.log", "w") as log:
        proc = subprocess.Popen([PROMETHEUS, f"--config.file={work / 'prometheus.yml'}",
                                 f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT)
        live = LivePrometheus(f"http://127.0.0.1:{port}", proc)
        try:
            live.wait_for(lambda: urllib.request.urlopen(f"{live.base}/-/ready", timeout=2).status == 200, 10, "ready")
            yield live
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
