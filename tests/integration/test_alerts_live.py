"""The order-stuck and DLQ alerts fire in a real Prometheus scraping the running dev stack, with a
fault injected: the Sage 300 simulator down (503 to every call) keeps an order out of the ERP, and an
order for a SKU Sage 300 does not know is dead-lettered by erp-writer.

The rules are deploy/prometheus/alerts.yml with shorter durations (a test copy, nothing else
changed): the order-stuck threshold is 5 s instead of 15 min, and the DLQ alert's window is 30 s
instead of 10 min with no `for:`. Every wait is for a positive signal from Prometheus' API (an alert
listed as firing, a series back at 0, the alert gone), never a sleep.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sagebridge_devstack.live_prometheus import run_prometheus, scrape_job

from .conftest import wait_until

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
PREFIX = "XC1-"                      # the shipped xcart-sage300 pair's reference_prefix
STUCK, DLQ = "SagebridgeOrderNotInErp", "SagebridgeDeadLetterRecords"


def fast_rules() -> dict:
    """alerts.yml with the two alerts' durations shortened; fails if their expressions changed so
    that the shortening no longer applies (the test would then prove nothing)."""
    doc = yaml.safe_load(RULES.read_text())
    rules = {r["alert"]: r for g in doc["groups"] for r in g["rules"] if "alert" in r}
    stuck, dlq = rules[STUCK], rules[DLQ]
    assert stuck["expr"].count("> 900") == 1 and "for" not in stuck
    stuck["expr"] = stuck["expr"].replace("> 900", "> 5")
    assert dlq["expr"].count("[10m]") == 1 and dlq["expr"].count("offset 10m") == 1
    dlq["expr"] = dlq["expr"].replace("[10m]", "[30s]").replace("offset 10m", "offset 30s")
    dlq.pop("for")
    return doc


@pytest.fixture(scope="module")
def prom(stack, tmp_path_factory):
    work = tmp_path_factory.mktemp("prometheus")
    rules = work / "rules" / "alerts.yml"
    rules.parent.mkdir()
    rules.write_text(yaml.safe_dump(fast_rules(), sort_keys=False))
    jobs = [scrape_job(name, [stack.ops_url(name).removeprefix("http://")], {"pair": stack.pair_id})
            for name in stack.services]
    with run_prometheus(work, jobs, [rules]) as p:
        wait_until(lambda: len(p.results("up == 1")) == len(jobs), timeout=20, message="every service scraped")
        yield p


def in_sage(sims, number: str) -> bool:
    return any(o["OrderReference"] == PREFIX + number for o in sims.sage_orders())


def test_every_rule_evaluates_against_the_stack(prom):
    health = wait_until(lambda: (lambda h: h if h and "unknown" not in h.values() else None)(prom.rule_health()),
                        timeout=15, message="every rule evaluated")
    assert set(health.values()) == {"ok"}, health


def test_order_not_in_erp_fires_while_sage_is_down_and_clears_once_written(prom, sims, stack):
    age = f'sagebridge_erp_oldest_unwritten_order_age_seconds{{pair="{stack.pair_id}"}}'
    wait_until(lambda: [r for r in prom.results(f"{age} == 0")], timeout=15, message="the pair's gauge at 0")
    assert prom.alerts(STUCK) == []
    sims.sage_faults(outage_seconds=120, outage_status=503, retry_after_s=1)
    try:
        made = sims.order()
        (firing,) = wait_until(lambda: prom.alerts(STUCK, "firing"), timeout=45, message=f"{STUCK} firing")
        assert firing["labels"] == {"alertname": STUCK, "severity": "critical", "connector": "sage300",
                                    "pair": stack.pair_id}
        assert float(firing["value"]) > 5
        assert firing["annotations"]["runbook_url"] == "README.md#sagebridgeordernotinerp"
        assert not in_sage(sims, made["order_number"])
    finally:
        sims.sage_faults(reset=True)
    wait_until(lambda: in_sage(sims, made["order_number"]), timeout=30, message="the order in Sage once it is up")
    wait_until(lambda: [r for r in prom.results(f"{age} == 0")], timeout=15, message="the gauge back at 0")
    wait_until(lambda: prom.alerts(STUCK) == [], timeout=10, message=f"{STUCK} resolved")


def test_dead_letter_alert_fires_for_an_order_sage_refuses(prom, sims, stack):
    dlq = 'sagebridge_dlq_records_total{service="erp-writer", reason="sage300_RecordInvalid"}'
    # A DLQ record of an earlier test in this session would keep the alert firing for its 30 s
    # window: start from the alert quiet, so what fires below is this order's record.
    wait_until(lambda: prom.alerts(DLQ) == [], timeout=45, message=f"{DLQ} quiet before the fault")
    before = sum(float(r["value"][1]) for r in prom.results(dlq))
    bad = sims.order(items=[{"sku": "NO-SUCH-SKU", "name": "Ghost", "price": "1.00", "amount": 1}])
    (firing,) = wait_until(lambda: prom.alerts(DLQ, "firing"), timeout=45, message=f"{DLQ} firing")
    assert firing["labels"] == {"alertname": DLQ, "severity": "warning", "service": "erp-writer",
                                "pair": stack.pair_id, "topic": "commerce.orders.v1",
                                "reason": "sage300_RecordInvalid"}
    assert sum(float(r["value"][1]) for r in prom.results(dlq)) == before + 1
    assert not in_sage(sims, bad["order_number"])
