"""The X-Cart 5.5 push module's PHP core (integrations/xcart/Sagebridge/Push), run with `php`
against ingest's real webhook server (its uvicorn construction, routes from a pair file) on the real
broker: what the module signs, ingest verifies and records; a body changed after signing is refused
and produces nothing; a hub outage loses nothing within the queue bound; the bound drops the oldest
and says so; refusals other than overload are not retried; the tracking endpoint's logic (token,
400/404, idempotency) behaves as the contract says."""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from sagebridge_common import signing
from sagebridge_common.app import Application
from sagebridge_common.pairs import load_pairs
from sagebridge_common.topics import INGEST_NOTIFICATIONS
from sagebridge_devstack.processes import free_port
from sagebridge_ingest.config import IngestSettings
from sagebridge_ingest.webhook import create_webhook_app

from .conftest import create_topics, read_all, unique, wait_until
from .test_webhook import LIMITS, VECTOR_BODY, VECTOR_SECRET, VECTOR_SIGNATURE, VECTOR_TIMESTAMP, serving

PHP = shutil.which("php")
pytestmark = pytest.mark.skipif(PHP is None, reason="php not installed (scripts/setup.sh installs php-cli)")

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "integrations" / "xcart" / "Sagebridge" / "Push" / "tests" / "fixture.php"
SECRET = "module-secret-" + "z" * 24
TOKEN = "tracking-token-" + "t" * 24
ORDER_EVENTS = ("order.created", "order.updated", "order.status_changed", "order.payment_status_changed",
                "order.shipping_status_changed", "order.tracking_added")
PROFILE_EVENTS = ("customer.created", "customer.updated")
_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 100)


def new_id() -> int:
    return next(_ids)


def php(config: Path, *args: str, stdin: str = "") -> dict:
    p = subprocess.run([PHP, str(FIXTURE), str(config), *args], input=stdin.encode(), capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def log_lines(config: Path) -> list[dict]:
    path = Path(json.loads(config.read_text())["log"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def hub(bootstrap, tmp_path_factory):
    """ingest as its entry point builds it: pairs loaded from a pair file whose webhook secret comes
    from the environment, webhook routes from those pairs, ingest's own HTTP server."""
    create_topics(bootstrap, [INGEST_NOTIFICATIONS], partitions=3)
    pair = unique("xcpush")
    pairs_dir = tmp_path_factory.mktemp("pairs")
    shipped = (ROOT / "pairs" / "xcart-sage300.yaml").read_text()
    (pairs_dir / "pair.yaml").write_text(shipped.replace("pair: xcart-sage300", f"pair: {pair}"))
    mp = pytest.MonkeyPatch()
    mp.setenv("WEBHOOK_SECRET", SECRET)
    mp.setenv("STORE_INSTANCE", "shop-1")
    try:
        pairs = load_pairs(pairs_dir, pair)
    finally:
        mp.undo()
    s = IngestSettings(kafka_bootstrap_servers=bootstrap, pair_id=pair, pairs_path=str(pairs_dir), ops_port=0,
                       http_host="127.0.0.1", http_port=free_port(), **LIMITS)
    app = Application(s, configure_logging=False, pairs=pairs)
    with serving(create_webhook_app(app), s):
        yield {"pair": pair, "url": f"http://127.0.0.1:{s.http_port}", "settings": s, "app": app}
    app.close()


def module_config(tmp_path: Path, hub_url: str, pair: str, **extra) -> Path:
    cfg = {"hub_url": hub_url, "pair_id": pair, "webhook_secret": SECRET, "tracking_token": TOKEN,
           "store": "shop-1", "queue_size": 1000, "backoff_base_s": 0.05, "backoff_cap_s": 0.5,
           "timeout_s": 10, "var_dir": str(tmp_path / "var"), "log": str(tmp_path / "push.log"), **extra}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "module.json"
    path.write_text(json.dumps(cfg))
    return path


def produced(bootstrap, serde, pair: str, expect: int | None = None) -> list[dict]:
    out = []
    for m in read_all(bootstrap, INGEST_NOTIFICATIONS, expect=expect, idle=1.5, timeout=60):
        _name, value = serde.deserialize(m.value())
        if value["metadata"]["pair_id"] == pair:
            out.append(value)
    return out


def wait_for_entity(bootstrap, serde, pair: str, entity_id: str) -> list[dict]:
    """Every notification of `pair` once `entity_id` (a marker sent last) has arrived."""
    found: list[dict] = []

    def arrived() -> bool:
        found[:] = produced(bootstrap, serde, pair)
        return any(n["entity_id"] == entity_id for n in found)
    wait_until(arrived, timeout=60, message=f"notification for {entity_id}")
    return found


MODULE = FIXTURE.parents[1]


def test_core_unit_checks_pass():
    """tests/unit.php: history-code map, ids, Retry-After, backoff, and the sender's decisions
    against a scripted hub with a fake clock (429 + Retry-After, 503, network error, 400)."""
    p = subprocess.run([PHP, str(MODULE / "tests" / "unit.php")], capture_output=True, timeout=60)
    assert p.returncode == 0 and p.stdout.decode().endswith("all ok\n"), p.stdout.decode() + p.stderr.decode()


def test_every_module_file_parses_and_services_name_real_classes():
    """The X-Cart glue cannot run without a store; at least each file must be valid PHP 8, and each
    class config/services.yaml registers must exist where X-Cart's loader looks (src/ by namespace)."""
    import yaml
    for f in sorted(MODULE.rglob("*.php")):
        p = subprocess.run([PHP, "-l", str(f)], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    config = {name: yaml.safe_load((MODULE / "config" / f"{name}.yaml").read_text())
              for name in ("main", "install", "services")}
    assert config["main"]["authorName"] == "Sagebridge"
    for cls in (c for c in config["services"]["services"] if c != "_defaults"):
        assert (MODULE / "src" / (cls.removeprefix("Sagebridge\\Push\\").replace("\\", "/") + ".php")).is_file(), cls
    options = {o["name"] for o in config["install"]["XLite\\Model\\Config"]}
    assert {"hub_url", "pair_id", "webhook_secret", "store_instance", "queue_size", "tracking_token"} <= options


def test_signature_is_ingests(tmp_path, hub):
    """The PHP signer and ingest's verifier agree on the published test vector and on a fresh body."""
    cfg = module_config(tmp_path, hub["url"], hub["pair"], webhook_secret=VECTOR_SECRET)
    headers = php(cfg, "sign", str(VECTOR_TIMESTAMP), stdin=VECTOR_BODY.decode())
    assert headers == {signing.TIMESTAMP_HEADER: str(VECTOR_TIMESTAMP), signing.SIGNATURE_HEADER: VECTOR_SIGNATURE}
    body = '{"event":"order.created","order_id":7,"store":"shop-1"}'
    now = int(time.time())
    headers = php(module_config(tmp_path, hub["url"], hub["pair"]), "sign", str(now), stdin=body)
    assert signing.verify(SECRET, headers[signing.TIMESTAMP_HEADER], body.encode(), headers[signing.SIGNATURE_HEADER],
                          now=now, tolerance=300)
    assert not signing.verify(SECRET, headers[signing.TIMESTAMP_HEADER], body.encode() + b" ",
                              headers[signing.SIGNATURE_HEADER], now=now, tolerance=300)


def test_every_event_is_delivered_and_recorded(tmp_path, hub, bootstrap, serde):
    """Each event the module emits, recorded as a store request would (repeats in one request count
    once) and drained: ingest accepts every one (2xx, nothing rejected or retried) and records a
    StorefrontNotification naming the order or the profile, the event and the store instance."""
    cfg = module_config(tmp_path, hub["url"], hub["pair"])
    sent = {event: new_id() for event in ORDER_EVENTS + PROFILE_EVENTS}
    args = [a for event, i in sent.items() for a in (event, str(i))]
    assert php(cfg, "record", *args, *args) == {"enqueued": len(sent)}
    bodies = [json.loads(b) for b in php(cfg, "stats")["bodies"]]
    for body, (event, i) in zip(bodies, sent.items(), strict=True):
        key = "profile_id" if event.startswith("customer.") else "order_id"
        assert set(body) == {"event", key, "occurred_at", "store"}
        assert body[key] == i and body["event"] == event and body["store"] == "shop-1"
        assert body["occurred_at"].endswith("Z")
        assert abs(datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00")).timestamp() - time.time()) < 120

    result = php(cfg, "drain", "--max-seconds=60")
    assert result == {"delivered": len(sent), "rejected": 0, "retries": 0, "remaining": 0, "locked": False}
    notes = wait_for_entity(bootstrap, serde, hub["pair"], str(sent["customer.updated"]))   # sent last
    got = {(n["event"], n["entity_type"], n["entity_id"]): n for n in notes}
    for event, i in sent.items():
        kind = "profile" if event.startswith("customer.") else "order"
        n = got[(event, kind, str(i))]
        assert n["storefront"] == "xcart" and n["metadata"]["source_instance"] == "shop-1"
        assert n["metadata"]["pair_id"] == hub["pair"]
    assert len([n for n in notes if n["entity_id"] in {str(i) for i in sent.values()}]) == len(sent)
    assert not [line for line in log_lines(cfg) if line["level"] != "info"]


def test_tampered_body_gets_401_and_produces_nothing(tmp_path, hub, bootstrap, serde):
    cfg = module_config(tmp_path, hub["url"], hub["pair"])
    victim = new_id()
    php(cfg, "record", "order.created", str(victim))
    assert php(cfg, "drain", "--tamper") == {"delivered": 0, "rejected": 1, "retries": 0, "remaining": 0,
                                             "locked": False}
    (line,) = [line for line in log_lines(cfg) if line["msg"].startswith("hub refused")]
    assert line["status"] == 401 and line["hub_error"] == "bad signature"
    marker = new_id()
    php(cfg, "record", "order.created", str(marker))
    assert php(cfg, "drain")["delivered"] == 1          # the same queue and key, untampered: accepted
    notes = wait_for_entity(bootstrap, serde, hub["pair"], str(marker))
    tampered = str(victim).replace(str(victim)[0], str((int(str(victim)[0]) + 1) % 10 or 1), 1)
    assert not [n for n in notes if n["entity_id"] in (str(victim), tampered)]
    assert php(cfg, "stats")["rejected"] == 1


def test_hub_outage_keeps_notifications_and_delivers_them_when_it_is_back(tmp_path, hub, bootstrap, serde):
    """The hub's port is closed while the store records events in separate PHP processes; a drain
    then backs off and keeps them; a drain left waiting delivers them all, in order, once ingest
    listens again, and resets the backoff."""
    port = free_port()
    cfg = module_config(tmp_path, f"http://127.0.0.1:{port}", hub["pair"])
    ids = [new_id() for _ in range(5)]
    for i in ids:
        php(cfg, "record", "order.updated", str(i))
    first = php(cfg, "drain", "--max-seconds=5")
    assert first["delivered"] == 0 and first["retries"] >= 1 and first["remaining"] == 5
    stats = php(cfg, "stats")
    assert stats["failures"] >= 1 and stats["size"] == 5

    log_path = tmp_path / "push.log"
    before = len(log_lines(cfg))
    drain = subprocess.Popen([PHP, str(FIXTURE), str(cfg), "drain", "--wait", "--max-seconds=90"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: len(log_lines(cfg)) >= before + 2, timeout=60, message="drain retrying while the hub is down")
        assert drain.poll() is None                       # still waiting for the hub
        s = hub["settings"].model_copy(update={"http_port": port})
        with serving(create_webhook_app(hub["app"]), s):
            out, err = drain.communicate(timeout=120)
    finally:
        if drain.poll() is None:
            drain.kill()
    result = json.loads(out)
    assert result["delivered"] == 5 and result["remaining"] == 0 and result["rejected"] == 0, err.decode()
    assert php(cfg, "stats")["failures"] == 0
    notes = wait_for_entity(bootstrap, serde, hub["pair"], str(ids[-1]))
    mine = [n["entity_id"] for n in notes if n["entity_id"] in {str(i) for i in ids}]
    assert sorted(mine) == sorted(str(i) for i in ids) and len(mine) == 5
    outage = [line for line in log_path.read_text().splitlines() if "hub unavailable" in line]
    assert outage and all("retry_in_s" in json.loads(line) for line in outage)


def test_queue_bound_drops_the_oldest_and_reports_it(tmp_path, hub, bootstrap, serde):
    cfg = module_config(tmp_path, f"http://127.0.0.1:{free_port()}", hub["pair"], queue_size=3)
    ids = [new_id() for _ in range(5)]
    for i in ids:                                          # five store requests, hub unreachable
        php(cfg, "record", "order.created", str(i))
    stats = php(cfg, "stats")
    assert stats["size"] == 3 and stats["dropped"] == 2
    assert [json.loads(b)["order_id"] for b in stats["bodies"]] == ids[2:]
    drops = [line for line in log_lines(cfg) if line["msg"].startswith("push queue full")]
    assert [d["dropped_total"] for d in drops] == [1, 2] and all("poll" in d["msg"] for d in drops)
    assert [d["dropped_events"] for d in drops] == [{"order.created": 1}] * 2

    cfg = module_config(tmp_path, hub["url"], hub["pair"], queue_size=3)     # the hub is back
    assert php(cfg, "drain")["delivered"] == 3
    notes = wait_for_entity(bootstrap, serde, hub["pair"], str(ids[-1]))
    got = {n["entity_id"] for n in notes}
    assert {str(i) for i in ids[2:]} <= got and not {str(i) for i in ids[:2]} & got


def test_concurrent_store_requests_share_the_bounded_queue(tmp_path, hub):
    """Eight PHP processes (store requests) enqueue 20 notifications each at once into a queue
    bounded at 50: no entry is torn or lost to a race, sequence numbers are unique, exactly the
    overflow is dropped and counted, and what is kept is the newest 50."""
    cfg = module_config(tmp_path, f"http://127.0.0.1:{free_port()}", hub["pair"], queue_size=50)
    batches = [[new_id() for _ in range(20)] for _ in range(8)]
    procs = [subprocess.Popen([PHP, str(FIXTURE), str(cfg), "record",
                               *[a for i in ids for a in ("order.updated", str(i))]], stdout=subprocess.PIPE)
             for ids in batches]
    assert [json.loads(p.communicate(timeout=120)[0]) for p in procs] == [{"enqueued": 20}] * 8
    stats = php(cfg, "stats")
    assert stats["size"] == 50 and stats["dropped"] == 110 and stats["next_seq"] == 161
    entries = sorted((tmp_path / "var" / "queue" / "entries").iterdir())
    assert [int(e.stem) for e in entries] == list(range(111, 161))
    kept = [json.loads(b)["order_id"] for b in stats["bodies"]]
    assert len(set(kept)) == 50 and set(kept) <= {i for ids in batches for i in ids}


def test_other_4xx_is_not_retried(tmp_path, hub):
    """A pair the hub does not serve answers 404: each entry gets one attempt, is logged and dropped,
    and the drain goes on to the next instead of backing off."""
    cfg = module_config(tmp_path, hub["url"], "no-such-pair")
    php(cfg, "record", "order.created", str(new_id()), "order.updated", str(new_id()))
    assert php(cfg, "drain") == {"delivered": 0, "rejected": 2, "retries": 0, "remaining": 0, "locked": False}
    refused = [line for line in log_lines(cfg) if line["msg"].startswith("hub refused")]
    assert [(r["status"], r["attempts"]) for r in refused] == [(404, 1), (404, 1)]
    assert php(cfg, "stats")["failures"] == 0


def tracking(cfg: Path, store: Path, body: object, token: str | None = TOKEN, method: str = "POST") -> dict:
    raw = body if isinstance(body, str) else json.dumps(body)
    return php(cfg, "tracking", str(store), method, token if token is not None else "-", stdin=raw)


def test_tracking_endpoint_logic(tmp_path, hub):
    cfg = module_config(tmp_path, hub["url"], hub["pair"])
    store = tmp_path / "orders.json"
    store.write_text(json.dumps({"orders": {"1001": 5, "1002": 6}, "tracking": []}))
    good = {"order_number": "1001", "tracking_number": "1Z999AA10123456784", "carrier": "UPS"}

    assert tracking(cfg, store, good, token="wrong")["status"] == 401
    assert tracking(cfg, store, good, token=TOKEN[:-1])["status"] == 401
    assert tracking(cfg, store, good, token=None)["status"] == 401
    assert tracking(cfg, store, "{not json", token="wrong")["status"] == 401      # token before body
    assert tracking(cfg, store, good, method="GET")["status"] == 405
    no_token = module_config(tmp_path / "x", hub["url"], hub["pair"], tracking_token="")
    assert tracking(no_token, store, good, token="")["status"] == 401           # unconfigured: closed
    for bad in ("{not json", "[]", "[1]", {"order_number": "1001"}, {**good, "tracking_number": ""},
                {**good, "tracking_number": 5}, {**good, "tracking_number": "a\nb"}, {**good, "order_number": None},
                {**good, "order_number": 1001}, {**good, "order_number": "  "}, {**good, "carrier": 7},
                {**good, "carrier": "U\x00PS"}, {**good, "tracking_number": "x" * 256}):
        r = tracking(cfg, store, bad)
        assert r["status"] == 400 and r["body"]["error"], bad
    assert tracking(cfg, store, {**good, "order_number": "9999"})["status"] == 404

    created = tracking(cfg, store, good)
    assert created == {"status": 201, "body": {"order_id": 5, "tracking_id": 1, "created": True}, "notify": 5}
    again = tracking(cfg, store, {**good, "tracking_number": " 1Z999AA10123456784 ", "carrier": ""})
    assert again == {"status": 200, "body": {"order_id": 5, "tracking_id": 1, "created": False}, "notify": None}
    other = tracking(cfg, store, {**good, "order_number": " 1002 "})
    assert other["status"] == 201 and other["body"]["order_id"] == 6
    second = tracking(cfg, store, {**good, "tracking_number": "1Z999AA10123456785"})
    assert second["status"] == 201 and second["body"]["tracking_id"] == 3
    rows = json.loads(store.read_text())["tracking"]
    assert [(r["order_id"], r["value"]) for r in rows] == [(5, good["tracking_number"]), (6, good["tracking_number"]),
                                                          (5, "1Z999AA10123456785")]
    assert TOKEN not in (tmp_path / "push.log").read_text()


def test_concurrent_identical_tracking_calls_create_one_row(tmp_path, hub):
    """Eight PHP processes post the same tracking number at once (a hub retrying a lost answer
    while the first call is still running): one 201, seven 200, one row."""
    cfg = module_config(tmp_path, hub["url"], hub["pair"])
    store = tmp_path / "orders.json"
    store.write_text(json.dumps({"orders": {"2001": 9}, "tracking": []}))
    body = json.dumps({"order_number": "2001", "tracking_number": "9400100000000000000000", "carrier": "USPS"})
    procs = [subprocess.Popen([PHP, str(FIXTURE), str(cfg), "tracking", str(store), "POST", TOKEN],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(8)]
    statuses = sorted(json.loads(p.communicate(body.encode(), timeout=60)[0])["status"] for p in procs)
    assert statuses == [200] * 7 + [201]
    assert len(json.loads(store.read_text())["tracking"]) == 1
