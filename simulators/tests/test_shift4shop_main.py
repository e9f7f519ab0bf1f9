"""`python -m sagebridge_sim.shift4shop`: credentials only from the environment, none on the command
line or in the output; refuses to start without them."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from sagebridge_sim.serve import free_port

ENV = {"SHIFT4SHOP_SECURE_URL": "https://main-test.3dcartstores.com", "SHIFT4SHOP_PRIVATE_KEY": "pk-main-secret",
       "SHIFT4SHOP_TOKEN": "tk-main-secret", "SHIFT4SHOP_STORE_TZ": "America/Los_Angeles"}


def test_starts_from_env_serves_and_prints_no_secret():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sagebridge_sim.shift4shop", "--port", str(port),
                             "--seed-products", "3", "--seed-variants", "2"],
                            env={**os.environ, **ENV}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                summary = httpx.get(f"http://127.0.0.1:{port}/_sim/summary", timeout=1).json()
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "simulator did not start"
                time.sleep(0.1)
        assert summary["products"] == 3 and summary["clock"]["store_time_zone"] == "America/Los_Angeles"
        headers = {"SecureURL": ENV["SHIFT4SHOP_SECURE_URL"], "PrivateKey": ENV["SHIFT4SHOP_PRIVATE_KEY"],
                   "Token": ENV["SHIFT4SHOP_TOKEN"]}
        r = httpx.get(f"http://127.0.0.1:{port}/3dCartWebAPI/v1/Products", params={"sku": "SKU-00002"},
                      headers=headers)
        assert [o["AdvancedOptionSufix"] for o in r.json()[0]["AdvancedOptionList"]] == ["SKU-00002-V1", "SKU-00002-V2"]
        assert httpx.get(f"http://127.0.0.1:{port}/3dCartWebAPI/v1/Products").status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    for secret in ("pk-main-secret", "tk-main-secret"):
        assert secret.encode() not in out


def test_refuses_to_start_without_credentials_in_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIFT4SHOP_")}
    done = subprocess.run([sys.executable, "-m", "sagebridge_sim.shift4shop", "--port", str(free_port())],
                          env=env, capture_output=True, timeout=30)
    assert done.returncode == 2 and b"SHIFT4SHOP_TOKEN" in done.stderr
