"""The store side of each integration pair the dev stack can run: which simulator starts, with what
made-up credentials, what catalogue it is seeded with, what the hub's services are told about it,
and (Shift4Shop) the webhooks registered in it.

One class per store kind; `Stack` holds one of them, chosen by its pair:
- `xcart-sage300`: the X-Cart 5.5 simulator (REST, signed push notifications);
- `3dcart-sage300`: the Shift4Shop REST simulator (`/3dCartWebAPI/v1`, webhooks with a URL token);
- `3dcartsoap-sage300`: the legacy 3dcart SOAP Store Web Service simulator (`cart.asmx`, polled);
- `xcart-intacct`, `xcart-sagepro`: the same X-Cart simulator, its ERP Sage Intacct or Sage Pro
  (erp_sims.py).

Credentials are made up per run with `secrets` and go to the simulators and services in their
environment (never on a command line, which any local user can read). The variable names are the
ones the shipped pair files read, so one setting serves both sides.
"""
from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from sagebridge_sim.sage300.demo_company import DEMO_ITEMS, DEMO_PRICES

from .processes import ManagedProcess
from .sim_base import SimulatorSide
from .store_catalogue import DEMO_ON_HAND, seed_store

if TYPE_CHECKING:
    from .stack import Stack

DEFAULT_PAIR = "xcart-sage300"
# The pair files' default of 5 calls/s protects a real store whose limit is not documented
# (shift4shop.md §1.5); polling, webhook fetches, readiness pings and the writer share it, so the
# demo's few orders a second would queue behind it. The simulators limit nothing unless a test asks.
SIM_RATE = {kind: {f"{kind}_RATE_LIMIT_PER_S": "50", f"{kind}_RATE_LIMIT_BURST": "50"}
            for kind in ("SHIFT4SHOP", "THREEDCART")}
SHIFT4SHOP_EVENTS = ("Order New", "Order Status Change", "Customer New")   # what the hub needs (README)


def demo_catalogue() -> list[tuple[str, str, Decimal]]:
    """(SKU, description, WEB price) of every Sage demo item: the pair's `items.rule: as_is` makes
    the store SKU the formatted item number, so every Sage stock or price change lands on a product."""
    return [(i["FMTITEMNO"], i["DESC"], Decimal(DEMO_PRICES.get(i["FMTITEMNO"], "0"))) for i in DEMO_ITEMS]


class StoreSim(SimulatorSide):
    """What the stack needs from a store simulator; `Stack` calls these in this order:
    `process()` (started beside the Sage simulator), `seed()` once both answer, then
    `service_env()` for every service it starts."""

    port_name = "store"

    def seed(self) -> None:
        """The catalogue (and webhooks) the demo and the tests rely on."""



class XCartStore(StoreSim):
    """The X-Cart simulator exactly as the stack always ran it (tokens stay on the Stack, where the
    X-Cart tests read them)."""

    kind, name, port_name = "xcart", "X-Cart", "xcart"

    def state_files(self) -> list[Path]:
        return [self.stack.xcart_state]

    def process(self) -> ManagedProcess:
        s = self.stack
        push = ["--push-url", s.webhook_url, "--push-secret", s.webhook_secret] if s.config.webhook_push else []
        tokens = {"XCART_TOKEN_READ": s.xcart_read_token, "XCART_TOKEN_ALL": s.xcart_token,
                  "XCART_MODULE_TOKEN": s.xcart_module_token}      # secrets: environment, not argv
        return ManagedProcess.python_module(
            "xcart-sim", "sagebridge_sim.xcart", tokens, s.logs,
            ["--port", str(s.ports["xcart"]), "--state-file", str(s.xcart_state), *push],
            ready_url=f"{self.url}/_sim/stats")

    def seed(self) -> None:
        seed_store(self.url)

    def service_env(self, service: str) -> dict[str, str]:
        s = self.stack
        if service == "ingest":
            return {"XCART_BASE_URL": self.url, "XCART_TOKEN": s.xcart_read_token, "WEBHOOK_SECRET": s.webhook_secret}
        if service == "storefront-writer":
            return {"XCART_BASE_URL": self.url, "XCART_TOKEN": s.xcart_token, "XCART_MODULE_TOKEN": s.xcart_module_token}
        return {}

    def describe(self) -> list[tuple[str, str]]:
        return [("X-Cart simulator", f"{self.url}   (create orders: POST /_sim/orders)"),
                ("webhook", self.stack.webhook_url)]


class Shift4ShopStore(StoreSim):
    """The Shift4Shop REST simulator: the three authentication headers (shift4shop.md §1.2) and the
    webhook URL token are made up per run; the store's invoice prefix is `AB-` as in the reference's
    recorded orders, its clock zone the pair's `store_time_zone`."""

    kind, name = "shift4shop", "Shift4Shop"
    invoice_prefix = "AB-"

    def __init__(self, stack: "Stack") -> None:
        super().__init__(stack)
        self.secure_url = f"https://sagebridge-{secrets.token_hex(4)}.3dcartstores.com"
        self.private_key = secrets.token_hex(16)
        self.token = secrets.token_hex(16)
        self.webhook_token = secrets.token_urlsafe(24)

    @property
    def api_url(self) -> str:
        return f"{self.url}/3dCartWebAPI/v1"

    @property
    def headers(self) -> dict[str, str]:
        return {"SecureURL": self.secure_url, "PrivateKey": self.private_key, "Token": self.token}

    @property
    def webhook_url(self) -> str:
        """ingest's route; the last segment is the secret (the platform signs nothing, §3)."""
        s = self.stack
        return f"http://127.0.0.1:{s.ports['ingest-http']}/webhooks/shift4shop/{s.pair_id}/{self.webhook_token}"

    def process(self) -> ManagedProcess:
        s = self.stack
        env = {"SHIFT4SHOP_SECURE_URL": self.secure_url, "SHIFT4SHOP_PRIVATE_KEY": self.private_key,
               "SHIFT4SHOP_TOKEN": self.token}
        return ManagedProcess.python_module(
            "shift4shop-sim", "sagebridge_sim.shift4shop", env, s.logs,
            ["--port", str(s.ports[self.port_name]), "--store-tz", s.store_time_zone,
             "--invoice-prefix", self.invoice_prefix, "--first-invoice-number", str(s.first_invoice_number),
             "--first-order-id", str(s.first_order_id)],
            ready_url=f"{self.url}/_sim/stats")

    def seed(self) -> None:
        with httpx.Client(timeout=10) as http:
            for sku, desc, price in demo_catalogue():
                http.post(f"{self.url}/_sim/products", json={"sku": sku, "name": desc, "description": desc,
                                                             "price": str(price), "stock": DEMO_ON_HAND}
                          ).raise_for_status()
            if self.stack.config.webhook_push:
                self.register_webhooks(http, self.stack.config.webhook_format)

    def register_webhooks(self, http: httpx.Client, fmt: str = "JSON",
                          events: tuple[str, ...] = SHIFT4SHOP_EVENTS) -> list[dict]:
        """What a merchant does once (README "Shift4Shop (REST) setup"): one webhook per event the hub
        needs, pointing at ingest's token route. Event codes are read from `GET /Webhooks/Events`
        (their numbers are not confirmed, shift4shop.md §3)."""
        r = http.get(f"{self.api_url}/Webhooks/Events", headers=self.headers)
        r.raise_for_status()
        codes = {e["EventName"]: e["EventType"] for e in r.json()}
        made = []
        for event in events:
            body = {"Name": f"Sagebridge {event}", "Url": self.webhook_url, "EventType": codes[event],
                    "Format": fmt, "Enabled": True}
            r = http.post(f"{self.api_url}/Webhooks", json=body, headers=self.headers)
            r.raise_for_status()
            made.append(r.json())
        return made

    def service_env(self, service: str) -> dict[str, str]:
        if service not in ("ingest", "storefront-writer"):
            return {}
        env = {"SHIFT4SHOP_API_URL": self.api_url, "SHIFT4SHOP_SECURE_URL": self.secure_url,
               "SHIFT4SHOP_PRIVATE_KEY": self.private_key, "SHIFT4SHOP_TOKEN": self.token, **SIM_RATE["SHIFT4SHOP"]}
        if service == "ingest":
            env["SHIFT4SHOP_WEBHOOK_TOKEN"] = self.webhook_token
        return env

    def describe(self) -> list[tuple[str, str]]:
        lines = [("Shift4Shop simulator", f"{self.api_url}   (create orders: POST {self.url}/_sim/orders)")]
        if self.stack.config.webhook_push:
            lines.append(("webhook", self.webhook_url.rsplit("/", 1)[0] + "/<token>"))
        return lines


class ThreeDCartStore(StoreSim):
    """The legacy 3dcart SOAP simulator (`cart.asmx`, shift4shop.md §4): storeUrl and the 32-character
    userKey are made up per run. The hub loads its own WSDL and calls the simulator's address."""

    kind, name = "threedcart", "3dcart (SOAP)"
    invoice_prefix = "AB-"

    def __init__(self, stack: "Stack") -> None:
        super().__init__(stack)
        self.store_url = f"sagebridge-{secrets.token_hex(4)}.3dcartstores.com"
        self.user_key = secrets.token_hex(16)              # 32 characters, as the admin issues it

    @property
    def service_url(self) -> str:
        return f"{self.url}/cart.asmx"

    def process(self) -> ManagedProcess:
        s = self.stack
        env = {"THREEDCART_STORE_URL": self.store_url, "THREEDCART_USER_KEY": self.user_key,
               "THREEDCART_TIME_ZONE": s.store_time_zone, "THREEDCART_INVOICE_PREFIX": self.invoice_prefix}
        return ManagedProcess.python_module(
            "threedcart-sim", "sagebridge_sim.threedcart", env, s.logs,
            ["--port", str(s.ports[self.port_name]), "--first-invoice", str(s.first_invoice_number),
             "--first-order-id", str(s.first_order_id)],
            ready_url=f"{self.url}/_sim/stats")

    def seed(self) -> None:
        with httpx.Client(timeout=10) as http:
            for sku, desc, price in demo_catalogue():
                http.post(f"{self.url}/_sim/products", json={"sku": sku, "name": desc, "price": str(price),
                                                             "stock": DEMO_ON_HAND}).raise_for_status()

    def service_env(self, service: str) -> dict[str, str]:
        if service not in ("ingest", "storefront-writer"):
            return {}
        return {"THREEDCART_SERVICE_URL": self.service_url, "THREEDCART_STORE_URL": self.store_url,
                "THREEDCART_USER_KEY": self.user_key, **SIM_RATE["THREEDCART"]}

    def describe(self) -> list[tuple[str, str]]:
        return [("3dcart SOAP simulator", f"{self.service_url}?WSDL   (create orders: POST {self.url}/_sim/orders)")]


STORES: dict[str, type[StoreSim]] = {"xcart-sage300": XCartStore, "3dcart-sage300": Shift4ShopStore,
                                     "3dcartsoap-sage300": ThreeDCartStore, "xcart-intacct": XCartStore,
                                     "xcart-sagepro": XCartStore}
PAIRS = tuple(STORES)


def store_for(stack: "Stack") -> StoreSim:
    try:
        return STORES[stack.pair_id](stack)
    except KeyError:
        raise ValueError(f"unknown pair {stack.pair_id!r}; the dev stack runs {', '.join(PAIRS)}") from None
