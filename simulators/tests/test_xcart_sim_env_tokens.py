"""The X-Cart simulator's CLI reads its tokens from the environment (no secrets on command lines),
and tracking writes through the push module land in the write log."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from sagebridge_sim.serve import free_port


def _wait_up(url: str, headers: dict[str, str]) -> bool:
    for _ in range(300):
        try:
            if httpx.get(url, headers=headers, timeout=0.5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)          # waiting for the positive signal: the server answers
    return False


def test_tokens_from_environment_and_tracking_in_write_log():
    port, base = free_port(), ""
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "XCART_TOKEN_READ": "env-read", "XCART_TOKEN_ALL": "env-all",
           "XCART_MODULE_TOKEN": "env-module"}
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.xcart", "--port", str(port),
                             "--seed-products", "2", "--seed-variants", "2", "--log-level", "warning"], env=env)
    try:
        read = {"X-Auth-Token": "env-read", "Accept": "application/json"}
        assert _wait_up(f"{base}/api/products", read)
        assert [v["sku"] for v in httpx.get(f"{base}/api/products/1/variants", headers=read).json()] == \
               ["SKU-00001-V1", "SKU-00001-V2"]
        assert httpx.put(f"{base}/api/products/1", headers=read, json={"amount": 1}).status_code == 403
        order = httpx.post(f"{base}/_sim/orders", json={"items": [{"sku": "SKU-00001", "price": "5"}]}).json()
        body = {"order_number": order["order_number"], "tracking_number": "1Z1", "carrier": "UPS"}
        assert httpx.post(f"{base}/sagebridge/tracking", json=body,
                          headers={"X-Sagebridge-Token": "wrong"}).status_code == 401
        assert httpx.post(f"{base}/?target=sagebridge_tracking", json=body,
                          headers={"X-Sagebridge-Token": "env-module"}).status_code == 201
        writes = httpx.get(f"{base}/_sim/writes", params={"kind": "tracking"}).json()["writes"]
        assert [(w["status"], w["key"]) for w in writes] == [(401, order["order_number"]),
                                                            (201, order["order_number"])]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_missing_tokens_stop_start_up():
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCART_TOKEN")}
    done = subprocess.run([sys.executable, "-m", "sagebridge_sim.xcart", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "XCART_TOKEN_READ" in done.stderr
