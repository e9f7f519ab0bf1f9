"""Runs the benchmarks one after the other (each in its own process, each printing its own
tables), then prints a summary from their JSON results and writes `bench/results/run_all.json`.

    .venv/bin/python bench/run_all.py [--only webhook_ingest,e2e_latency,erp_writer_throughput,new_customer_flow,
                                              reconcile,coalescing,cdc_latency,erp_to_store_loop,
                                              shift4shop_batch_writes,shift4shop_webhook_latency,
                                              intacct_throughput,intacct_cdc_latency,
                                              sagepro_writer,sagepro_scan]

About 40 minutes on 2 cores. Run it on an otherwise idle machine: the load generator already
competes with the servers, and a concurrent test run skews every figure.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import BENCH_DIR, RESULTS_DIR, foreign_load, leftover_processes, table, write_json

BENCHMARKS = ["webhook_ingest", "e2e_latency", "erp_writer_throughput", "new_customer_flow", "reconcile",
              "coalescing", "cdc_latency", "erp_to_store_loop", "shift4shop_batch_writes",
              "shift4shop_webhook_latency", "intacct_throughput", "intacct_cdc_latency",
              "sagepro_writer", "sagepro_scan"]
TIMEOUT_S = {"webhook_ingest": 240, "e2e_latency": 240, "erp_writer_throughput": 300, "new_customer_flow": 900,
             "reconcile": 600, "coalescing": 420, "cdc_latency": 240, "erp_to_store_loop": 300,
             "shift4shop_batch_writes": 900, "shift4shop_webhook_latency": 600,
             "intacct_throughput": 300, "intacct_cdc_latency": 300,
             "sagepro_writer": 600, "sagepro_scan": 900}


def summary_rows(name: str, doc: dict) -> list[list]:
    rows = []
    if name == "webhook_ingest":
        runs = doc["runs"]
        for label in ("bare FastAPI 202", "ingest webhook"):
            r = runs[label]
            rows.append([name, f"{label}: req/s (p50 / p99 ms)",
                         f"{r['rps']:.0f} ({r['lat_p50_us'] / 1000:.1f} / {r['lat_p99_us'] / 1000:.1f})", "", None])
        rows.append([name, "ingest / bare ratio", f"{doc['ratio']:.3f}", f">= {doc['target_ratio']}", doc["ratio_ok"]])
        rows.append([name, "topic records == ingest 202s", f"{doc['topic_records']}",
                     f"== {doc['ingest_status_counts'].get('202', 0)}", doc["topic_records_match_202"]])
    elif name == "e2e_latency":
        for p in doc["paths"]:
            s = p["latency_ms"]
            label = p["path"] + (f" (poll every {p['poll_interval_s']:g}s)" if p["poll_interval_s"] else "")
            ok = s["p99"] is not None and s["p99"] <= 150 if p["path"] == "webhook" else None
            rows.append([name, f"{label}: p50/p90/p99/max ms",
                         f"{s['p50']:.0f} / {s['p90']:.0f} / {s['p99']:.0f} / {s['max']:.0f}",
                         "p99 <= 150" if p["path"] == "webhook" else "", ok])
            rows.append([name, f"{p['path']}: exactly once", f"{p['arrived']}/{p['created']}, {p['duplicates']} dupes",
                         "all, once", p["exactly_once"]])
    elif name == "erp_writer_throughput":
        for r in doc["runs"]:
            t = r["target_orders_per_s"]
            rows.append([name, f"{r['setting_label']}, guard {r['guard']}, {r['max_in_flight']} in flight: orders/s",
                         f"{r['throughput']['orders_per_s']:.1f}", f">= {t:.0f}" if t else "", r["target_ok"]])
            rows.append([name, f"{r['setting_label']}, guard {r['guard']}: Sage calls per order",
                         f"{r['sage_calls_per_order']:.3f}", "<= 1.05" if r["guard"] == "on" else "",
                         r["sage_calls_per_order"] <= 1.05 if r["guard"] == "on" else None])
        for setting, v in doc["speedup"].items():
            label = next(r["setting_label"] for r in doc["runs"] if r["setting"] == setting)
            rows.append([name, f"{label}: speedup 16 vs 1", f"{v:.1f}x", "", None])
    elif name == "reconcile":
        for r in doc["runs"]:
            rows.append([name, f"{doc['orders']:,} orders, {r['label']}: seconds (store / ERP calls)",
                         f"{r['seconds']:.1f} ({r['store_calls']} / {r['erp_calls']})", "all matched, exit 0", r["ok"]])
    elif name == "new_customer_flow":
        for p in doc["phases"]:
            s = p["latency_ms"]
            rows.append([name, f"{p['label']}: p50/p99 ms",
                         f"{s['p50']:.0f} / {s['p99']:.0f}" if s["p50"] is not None else "-", "", None])
            rows.append([name, f"{p['label']}: Sage calls per order", f"{p['sage_calls_per_order']:.2f}",
                         "<= 1.05" if p["phase"] == "known" else "",
                         p["sage_calls_per_order"] <= 1.05 if p["phase"] == "known" else None])
            rows.append([name, f"{p['label']}: every order created once", f"{p['outcomes']}", "all created",
                         p["outcomes"] == {"created": p["orders"]} and not p["missing"]])
        for p in (doc.get("full_stack") or {}).get("phases", []):
            s = p["latency_ms"]
            rows.append([name, f"{p['label']}: p50/p99 ms, Sage calls per order",
                         f"{s['p50']:.0f} / {s['p99']:.0f}, {p['sage_calls_per_order']:.2f}" if s["p50"] is not None
                         else "-", "", not p["missing"]])
        rows.append([name, "one Sage customer per new e-mail", f"{doc['customers_created']}/{doc['emails']}",
                     "1 each", doc["customers_created"] == doc["emails"] and doc["customers_per_email_max"] == 1])
    rows += erp_side_rows(name, doc) + shift4shop_rows(name, doc) + intacct_rows(name, doc) + sagepro_rows(name, doc)
    return rows


def erp_side_rows(name: str, doc: dict) -> list[list]:
    """Summary rows of the Sage 300 -> X-Cart benchmarks (issue 7)."""
    rows: list[list] = []
    if name == "coalescing":
        for r in doc["runs"]:
            conv = r["converged_after_last_change_s"]
            coalescing = r["mode"] == "coalescing"
            rows.append([name, f"{r['mode']}: calls per changed SKU", f"{r['calls_per_changed_sku']:.2f}",
                         "<= 1.2" if coalescing else "", r["calls_per_changed_sku"] <= 1.2 if coalescing else None])
            rows.append([name, f"{r['mode']}: converged s after the last change, store matches",
                         f"{conv:.2f}, {r['store_matches']}" if conv is not None else f"-, {r['store_matches']}",
                         "<= 5" if coalescing else "",
                         (conv is not None and conv <= 5 and r["store_matches"]) if coalescing else r["store_matches"]])
    elif name == "cdc_latency":
        r = doc["run"]
        s = r["latency"]["event_s"]
        rows.append([name, f"ICILOC commit -> erp.inventory.v1: p50/p99 ms (poll {r['poll_interval_s']:g}s)",
                     f"{s['p50'] * 1000:.0f} / {s['p99'] * 1000:.0f}" if s["p50"] is not None else "-",
                     f"p99 <= {doc['target_p99_s'] * 1000:.0f}",
                     s["p99"] is not None and s["p99"] <= doc["target_p99_s"]])
        rows.append([name, "queries / rows read per poll, ICILOC rows scanned/s",
                     f"{r['queries_per_poll'] or 0:.1f} / {r['rows_read_per_poll'] or 0:.0f}, "
                     f"{r['iciloc_rows_scanned_per_s'] or 0:.0f}", "", not r["missing_final"]])
    elif name == "erp_to_store_loop":
        r = doc["run"]
        s = r["latency_s"]
        rows.append([name, "ICILOC commit -> X-Cart stock write: p50/p99 ms",
                     f"{s['p50'] * 1000:.0f} / {s['p99'] * 1000:.0f}" if s["p50"] is not None else "-",
                     f"p99 <= {doc['target_p99_s'] * 1000:.0f}",
                     s["p99"] is not None and s["p99"] <= doc["target_p99_s"]])
        rows.append([name, "store holds every last quantity", str(r["store_matches"]), "yes",
                     r["store_matches"] and r["arrived"]])
    return rows


def shift4shop_rows(name: str, doc: dict) -> list[list]:
    """Summary rows of the Shift4Shop benchmarks (issue 8)."""
    rows: list[list] = []
    if name == "shift4shop_batch_writes":
        for r in doc["runs"]:
            conv = r["converged_after_last_change_s"]
            batched = r["mode"] in ("batched", "batched_cold")
            rows.append([name, f"{r['mode']} (batch {r['batch_size']}): PUT calls, GET lookups",
                         f"{r['put_calls']}, {r['get_lookups']}", "<= 6 PUTs" if batched else "",
                         r["put_calls"] <= 6 if batched else None])
            rows.append([name, f"{r['mode']}: converged s after the last change, store matches",
                         f"{conv:.2f}, {r['store_matches']}" if conv is not None else f"-, {r['store_matches']}",
                         "<= 5" if batched else "",
                         (conv is not None and conv <= 5 and r["store_matches"]) if batched else r["store_matches"]])
    elif name == "shift4shop_webhook_latency":
        for r in doc["runs"]:
            s = r["latency_ms"]
            rows.append([name, f"store rate limit {r['rate_limit_per_s']:g}/s: p50/p99 ms",
                         f"{s['p50']:.0f} / {s['p99']:.0f}" if s["p50"] is not None else "-", "", None])
            rows.append([name, f"store rate limit {r['rate_limit_per_s']:g}/s: exactly once",
                         f"{r['arrived']}/{r['created']}, {r['duplicates']} dupes", "all, once", r["exactly_once"]])
    return rows


def intacct_rows(name: str, doc: dict) -> list[list]:
    """Summary rows of the Sage Intacct benchmarks (issue 9)."""
    rows: list[list] = []
    if name == "intacct_throughput":
        for p in doc["phases"]:
            rows.append([name, f"{p['phase']} customer: orders/s (bound {p['bound_orders_per_s']:.2f})",
                         f"{p['orders_per_s']:.2f}" if p["orders_per_s"] else "-", "", None])
            rows.append([name, f"{p['phase']} customer: API transactions per order",
                         f"{p['transactions_per_order']:.2f}", f"<= {p['target_transactions_per_order']:g}",
                         p["transactions_ok"]])
            rows.append([name, f"{p['phase']} customer: every order exactly once (SODOCUMENTs)",
                         f"{p['sodocuments']}/{p['orders']}", "all, once", p["exactly_once"]])
        gw = doc["sim_faults_at_end"]["rejected_concurrency"]
        rows.append([name, "GW-0010 answers (cap 2 = limit 2)", str(gw), "0", gw == 0])
    elif name == "intacct_cdc_latency":
        r = doc["run"]
        s = r["latency_s"]["all"]
        rows.append([name, f"item price/stock change -> event: p50/p99 ms (poll {r['poll_interval_s']:g}s)",
                     f"{s['p50'] * 1000:.0f} / {s['p99'] * 1000:.0f}" if s["p50"] is not None else "-",
                     f"p99 <= {doc['target_p99_s'] * 1000:.0f}", s["p99"] is not None and s["p99"] <= doc["target_p99_s"]])
        rows.append([name, "API transactions per poll (polls/min)",
                     f"{r['transactions_per_poll'] or 0:.2f} ({r['polls_per_minute'] or 0:.1f})", "",
                     not r["missing"]])
    return rows


def sagepro_rows(name: str, doc: dict) -> list[list]:
    """Summary rows of the Sage Pro benchmarks (issue 10)."""
    rows: list[list] = []
    if name == "sagepro_writer":
        for r in doc["runs"]:
            rt = r["round_trips_per_order"]
            rows.append([name, f"{r['latency']}, {r['threads']} thread(s), {'new' if r['new_customer'] else 'known'} "
                               "customer: orders/s (round trips/order)",
                         f"{r['orders_per_s']:.2f}" + (f" ({rt:.1f})" if rt is not None else ""), "",
                         set(r["outcomes"]) == {"created"}])
        rows.append([name, "one somast per reference, 2 lines each, numbering at the top", str(doc["check"]["ok"]),
                     "yes", doc["check"]["ok"]])
    elif name == "sagepro_scan":
        for r in doc["scans"]:
            per = r.get("rows_read_per_change")
            rows.append([name, f"{doc['rows']:,} iciloc rows, scan {r['scan']}: s (rows/s)",
                         f"{r['seconds']:.2f} ({r['rows_per_s']:,.0f})" + (f", {per:,.0f} rows read/change" if per else ""),
                         "", r["changes"] == r.get("changes_expected", r["changes"])])
        lat = doc.get("latency")
        if lat:
            s = lat["latency_s"]
            rows.append([name, f"change -> event at the defaults (interval {lat['poll_interval_s']:g}s, "
                               f"{lat['rows_per_s']:g} rows/s): p50 / max s",
                         f"{s['p50']:.1f} / {s['max']:.1f}" if s["p50"] is not None else "-",
                         f"<= {lat['bound_s']:.0f} (steady cycle)", lat["missing"] == 0 and s["max"] is not None
                         and s["max"] <= lat["bound_s"] + 1])
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=",".join(BENCHMARKS))
    args = ap.parse_args()
    chosen = [b for b in args.only.split(",") if b]
    load = foreign_load()
    codes, durations, rows = {}, {}, []
    started_all = time.monotonic()
    for name in chosen:
        print(f"\n######## {name} ########\n", flush=True)
        started = time.monotonic()
        try:
            res = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py")], timeout=TIMEOUT_S[name])
            codes[name] = res.returncode
        except subprocess.TimeoutExpired:
            codes[name] = "timeout"
        durations[name] = time.monotonic() - started
        try:
            doc = json.loads((RESULTS_DIR / f"{name}.json").read_text())
            if doc.get("finished_at") and codes[name] != "timeout":
                rows += summary_rows(name, doc)
        except (OSError, ValueError, KeyError) as e:
            rows.append([name, "results", f"unreadable: {e}", "", False])
    total = time.monotonic() - started_all
    left = leftover_processes("sagebridge-bench")
    print()
    print(table(f"Sagebridge benchmarks, summary ({total:.0f}s in all)", ["benchmark", "measure", "value", "target", "ok"],
                rows + [["all", "exit codes", ", ".join(f"{k}={v}" for k, v in codes.items()), "0", all(
                    v == 0 for v in codes.values())],
                        ["all", "processes left behind (sagebridge-bench dirs)", str(len(left)), "0", not left]]))
    print("\nrun times: " + ", ".join(f"{k} {v:.0f}s" for k, v in durations.items()))
    write_json("run_all", {"exit_codes": codes, "durations_s": durations, "total_s": total, "foreign_load": load,
                           "summary": [dict(zip(["benchmark", "measure", "value", "target", "ok"], r)) for r in rows],
                           "leftover_processes": left})
    return 0 if all(v == 0 for v in codes.values()) and not left else 1


if __name__ == "__main__":
    sys.exit(main())
