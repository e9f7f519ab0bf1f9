"""Webhook ingest throughput: ingest's `POST /webhooks/xcart/{pair}` against a bare FastAPI 202.

Setup: embedded tansu broker, the topic catalogue, the simulators (ingest's readiness check pings
X-Cart) and the ingest service with polling off and its fetch stage off (`FETCH_ENABLED=false`):
the webhook pods of a deployment, with the fetcher behind them running as its own deployment.
One fixed body `{"event":"order.created","order_id":<id>}` signed with the stack's webhook secret
is POSTed by wrk (`bench/lua/post_signed.lua`); it is signed afresh (timestamp and signature) before
each wrk run, so every run stays inside ingest's WEBHOOK_TIMESTAMP_TOLERANCE_S.

Both servers get the same wrk parameters (warm-up, then the measured run). CPU seconds of every
process (and of wrk) are sampled from /proc around each measured run.

Diagnostic run (skip with --no-diagnostics): ingest with a single connection, the per-request
floor set by acks=all + linger.ms.

Checks: the number of records in `sagebridge.ingest.notifications.v1` (its end offsets; see
`common.topic_record_count` for why not by reading it back) must equal ingest's own count of 202
answers (`sagebridge_webhook_requests_total`), warm-up included, since every 202 means one acks=all
delivery; and a sample of the records (the first ones) names the benchmark's order.

    .venv/bin/python bench/webhook_ingest.py [--threads 2 --connections 20 --duration 15 --warmup 3]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx

from common import (cpu_seconds, BENCH_DIR, Sims, foreign_load, leftover_processes, metric_value, read_topic, table, temp_work_dir,
                    topic_record_count, write_json)
from sagebridge_common.avro_serde import SingleObjectSerde
from sagebridge_common.schemas import SchemaCatalog
from sagebridge_common.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from sagebridge_common.topics import INGEST_NOTIFICATIONS
from sagebridge_devstack.processes import free_port
from sagebridge_devstack.processes import wait_for_port as wait_port
from sagebridge_devstack.stack import Stack, StackConfig

NAME = "webhook_ingest"
LUA = BENCH_DIR / "lua" / "post_signed.lua"
TARGET_RATIO = 0.8


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    ts = int(time.time())
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: sign(secret, ts, body)}


def run_wrk(url: str, body: bytes, secret: str, threads: int, connections: int, duration: int) -> dict:
    headers = signed_headers(secret, body)
    env = {**os.environ, "BENCH_BODY": body.decode(), "BENCH_TIMESTAMP": headers[TIMESTAMP_HEADER],
           "BENCH_SIGNATURE": headers[SIGNATURE_HEADER]}
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(LUA), url]
    res = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + 60)
    line = next((l for l in res.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if res.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    out = json.loads(line[len("WRKJSON "):])
    out["rps"] = out["requests"] / (out["duration_us"] / 1e6)
    out["argv"] = " ".join(argv)
    return out


class BareServer:
    """uvicorn, one worker, default loop and http (h11 here: httptools is not installed), like
    ingest's embedded server, which adds its limits on top (webhook_http.make_server: an h11
    subclass with a request-head deadline, keep-alive timeout, connection cap)."""

    def __init__(self, log_path, otel_sdk: bool = False) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.otel_sdk = otel_sdk
        self.proc: subprocess.Popen | None = None

    def start(self) -> "BareServer":
        argv = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(BENCH_DIR), "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", "1", "--log-level", "warning", "--no-access-log"]
        env = {**os.environ, "BENCH_BARE_OTEL_SDK": "1" if self.otel_sdk else "0"}
        self.proc = subprocess.Popen(argv, stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measured(url: str, body: bytes, secret: str, args, pids: dict[str, int], connections: int | None = None,
             threads: int | None = None, duration: int | None = None) -> dict:
    """Warm-up, then the measured wrk run, with the CPU% of each process during the measured run."""
    t, c, d = threads or args.threads, connections or args.connections, duration or args.duration
    run_wrk(url, body, secret, t, c, args.warmup)
    before = {n: cpu_seconds(p) for n, p in pids.items()}
    wrk_before, started = children_cpu(), time.monotonic()
    r = run_wrk(url, body, secret, t, c, d)
    elapsed = time.monotonic() - started
    r["cpu_percent"] = {n: round(100 * (cpu_seconds(p) - before[n]) / elapsed, 1) for n, p in pids.items()}
    r["cpu_percent"]["wrk"] = round(100 * (children_cpu() - wrk_before) / elapsed, 1)
    r["wrk_params"] = {"threads": t, "connections": c, "duration_s": d, "warmup_s": args.warmup}
    return r


def webhook_counts(stack: Stack) -> dict[str, int]:
    text = httpx.get(f"{stack.ops_url('ingest')}/metrics", timeout=10).text
    out: Counter = Counter()
    for line in text.splitlines():
        if line.startswith("sagebridge_webhook_requests_total{"):
            labels = line[line.index("{") + 1:line.index("}")]
            status = dict(p.split("=", 1) for p in labels.split(","))["status"].strip('"')
            out[status] += int(float(line.rsplit(" ", 1)[1]))
    return dict(out)


def notifications_fetched(stack: Stack) -> int:
    text = httpx.get(f"{stack.ops_url('ingest')}/metrics", timeout=10).text
    return int(metric_value(text, "sagebridge_events_consumed_total", topic=INGEST_NOTIFICATIONS))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--no-diagnostics", action="store_true", help="only the two runs the target is about")
    args = ap.parse_args()
    diagnostics = not args.no_diagnostics
    load = foreign_load()

    with temp_work_dir("webhook") as work:
        stack = Stack(StackConfig(work_dir=work, poll_enabled=False, partitions=4,
                                  service_env={"ingest": {"FETCH_ENABLED": "false"}}))
        bares = [BareServer(work / "bare.log")]
        counts: Counter = Counter()
        sims = None
        runs: dict[str, dict] = {}
        try:
            t0 = time.monotonic()
            stack.work.mkdir(parents=True, exist_ok=True)
            stack.start_broker()
            stack.apply_topics()
            stack.start_simulators()
            stack.start_service("ingest")
            sims = Sims(stack)
            order = sims.order()          # a real order, so the fetch stage behind the webhook succeeds
            body = json.dumps({"event": "order.created", "order_id": order["id"]}, separators=(",", ":")).encode()
            secret = stack.webhook_secret
            r = httpx.post(stack.webhook_url, content=body,
                           headers={"Content-Type": "application/json", **signed_headers(secret, body)})
            if r.status_code != 202:
                raise RuntimeError(f"ingest refused the benchmark body: {r.status_code} {r.text}")
            pids = {"ingest": stack.services["ingest"].proc.pid, "xcart-sim": stack.simulators["xcart"].proc.pid,
                    "broker": stack.broker.proc.pid}
            print(f"stack up in {time.monotonic() - t0:.1f}s; body {body.decode()}", file=sys.stderr)

            def bare_run(label: str, server: BareServer) -> None:
                server.start()
                try:
                    url = f"http://127.0.0.1:{server.port}/webhooks/xcart/{stack.pair_id}"
                    runs[label] = measured(url, body, secret, args, pids | {"bare": server.proc.pid})
                finally:
                    server.stop()
                print(f"{label}: {runs[label]['rps']:.0f} req/s", file=sys.stderr)

            bare_run("bare FastAPI 202", bares[0])
            runs["ingest webhook"] = measured(stack.webhook_url, body, secret, args, pids)
            print(f"ingest webhook: {runs['ingest webhook']['rps']:.0f} req/s", file=sys.stderr)
            if diagnostics:
                runs["diag: ingest, 1 connection"] = measured(stack.webhook_url, body, secret, args, pids,
                                                              connections=1, threads=1, duration=5)

            record_count = topic_record_count(stack.bootstrap, INGEST_NOTIFICATIONS)
            records = read_topic(stack.bootstrap, INGEST_NOTIFICATIONS, idle=1.0, timeout=5)   # a sample
            counts.update(webhook_counts(stack))
            counts = {k: v for k, v in counts.items() if v}
            serde = SingleObjectSerde(SchemaCatalog.load())
            entity_ids = Counter(serde.deserialize(m.value())[1]["entity_id"] for m in records)
        finally:
            if sims:
                sims.close()
            for b in bares:
                b.stop()
            stack.stop()
        left = leftover_processes(str(work)) + [l for b in bares for l in leftover_processes(f"--port {b.port}")]

    ing, base = runs["ingest webhook"], runs["bare FastAPI 202"]
    accepted = counts.get("202", 0)
    ratio = ing["rps"] / base["rps"]
    rows = []
    for label, r in runs.items():
        cpu = r["cpu_percent"]
        server_cpu = cpu.get("bare", cpu["ingest"]) if label.startswith("bare") else cpu["ingest"]
        rows.append([label, f"-t{r['wrk_params']['threads']} -c{r['wrk_params']['connections']}", round(r["rps"]),
                     r["lat_p50_us"] / 1000, r["lat_p99_us"] / 1000, r["lat_max_us"] / 1000, r["errors_status"],
                     r["errors_connect"] + r["errors_read"] + r["errors_write"] + r["errors_timeout"],
                     server_cpu, cpu["broker"], cpu["xcart-sim"], cpu["wrk"]])
    print(table(f"Webhook ingest throughput (wrk -d{args.duration}s after a {args.warmup}s warm-up, one fixed signed "
                f"body; {os.cpu_count()} cores shared with wrk; 1-connection run -d5s)",
                ["server", "wrk", "req/s", "p50 ms", "p99 ms", "max ms", "non-2xx", "sock err",
                 "server CPU%", "broker CPU%", "xcart CPU%", "wrk CPU%"], rows, 2))
    print()
    checks = [
        ["ingest/bare throughput ratio", round(ratio, 3), f">= {TARGET_RATIO}", ratio >= TARGET_RATIO],
        ["ingest 202 answers (all runs, warm-ups incl.)", accepted, "", True],
        ["ingest non-202 answers", sum(v for k, v in counts.items() if k != "202"), "0",
         all(k == "202" for k in counts)],
        ["records in " + INGEST_NOTIFICATIONS, record_count, f"== {accepted}", record_count == accepted],
        [f"sampled records naming another order id (of {len(records)})",
         sum(n for k, n in entity_ids.items() if k != str(order["id"])), "0", set(entity_ids) <= {str(order["id"])}],
        ["processes left behind", len(left), "0", not left],
    ]
    if load["warning"]:
        checks.append(["other load on the machine at start", load["warning"], "none", False])
    print(table("Checks", ["check", "value", "target", "ok"], checks, 3))
    path = write_json(NAME, {
        "description": "wrk POSTs of one signed notification: ingest webhook vs bare FastAPI 202",
        "wrk": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                "warmup_s": args.warmup}, "body": body.decode(),
        "runs": runs, "ratio": ratio, "target_ratio": TARGET_RATIO, "ratio_ok": ratio >= TARGET_RATIO,
        "ingest_status_counts": counts, "topic_records": record_count,
        "topic_records_match_202": record_count == accepted, "foreign_load": load, "leftover_processes": left,
    })
    print(f"\nJSON: {path}")
    ok = record_count == accepted and not left
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
