"""X-Cart simulator: partial PUTs of profiles and addresses (reference xcart.md §1b), and their
entries in the write log."""
from __future__ import annotations

import httpx
import pytest

from sagebridge_sim.serve import BackgroundServer
from sagebridge_sim.xcart import XCartStore, create_app

W = {"X-Auth-Token": "all", "Accept": "application/json"}


@pytest.fixture()
def client():
    server = BackgroundServer(create_app(XCartStore(), "read", "all")).start()
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c
    server.stop()


def test_profile_and_address_put_change_only_given_fields(client):
    c = client
    c.post("/_sim/profiles", json={"login": "a@example.com", "first_name": "Ann", "address": {"city": "Austin"}})
    c.post("/_sim/profiles", json={"login": "b@example.com"})
    before = c.get("/api/profiles/1", headers=W).json()
    after = c.put("/api/profiles/1", headers=W, json={"status": "D"}).json()
    assert after["status"] == "D" and after["login"] == before["login"]
    assert c.put("/api/profiles/1", headers=W, json={"status": "X"}).status_code == 400
    assert c.put("/api/profiles/1", headers=W, json={"login": "b@example.com"}).status_code == 400
    assert c.put("/api/profiles/9", headers=W, json={"status": "E"}).status_code == 404
    address = c.get("/api/profiles/1/addresses", headers=W).json()[0]
    changed = c.put(f"/api/profiles/1/addresses/{address['id']}", headers=W,
                    json={"street": "2 Oak Road", "state_name": "Texas"}).json()
    assert (changed["street"], changed["state"], changed["city"], changed["firstname"]) == \
           ("2 Oak Road", 51, "Austin", "Ann")
    assert c.put(f"/api/profiles/1/addresses/{address['id']}", headers=W, json={"city": 5}).status_code == 400
    kinds = [(w["kind"], w["key"], w["status"]) for w in c.get("/_sim/writes").json()["writes"]]
    assert kinds[:2] == [("profile", "1", 200), ("profile", "1", 400)]
    assert len(kinds) == 6
