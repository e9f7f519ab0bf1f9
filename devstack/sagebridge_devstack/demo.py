"""Demo traffic on the store side, for `sagebridge-dev up`: store orders placed at a steady rate,
through each store simulator's admin surface (`/_sim/orders`): X-Cart (`DemoDriver`), Shift4Shop
REST (`Shift4ShopDemoDriver`) and 3dcart SOAP (`ThreeDCartDemoDriver`); `demo_driver_for` picks one
by store kind."""
from __future__ import annotations

import random
import threading
import time

import httpx


CATALOGUE = [("WIDGET-1", "Widget", "12.50"), ("GADGET-2", "Gadget", "3.25"), ("A1-105/0", "Bracket", "19.99")]


class DemoDriver:
    """Creates X-Cart orders at a steady rate, each paid at checkout (a sale transaction, so a
    Sage 300 receipt): about a third are guests (the template's default web customer), the rest
    registered customers, new ones and returning ones from a small pool (so a customer is found,
    not created again); about one in five pays with PayPal (its own bank code). About one in fifty
    has a SKU Sage 300 does not know, so the dead-letter path shows up in the view too."""

    def __init__(self, xcart_url: str, rate_per_s: float, bad_sku_ratio: float = 0.02,
                 guest_ratio: float = 0.35, returning: int = 20) -> None:
        self.url = xcart_url
        self.rate = rate_per_s
        self.bad_ratio = bad_sku_ratio
        self.guest_ratio = guest_ratio
        self.returning = returning
        self.created_ms: dict[str, int] = {}          # X-Cart order id -> when it was placed
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-driver", daemon=True)

    def start(self) -> "DemoDriver":
        if self.rate > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _spec(self, n: int) -> dict:
        items = [{"sku": s, "name": name, "price": p, "amount": random.randint(1, 3)}
                 for s, name, p in random.sample(CATALOGUE, random.randint(1, 2))]
        if random.random() < self.bad_ratio:
            items.append({"sku": "DISCONTINUED-9", "name": "Old stock", "price": "1.00", "amount": 1})
        guest = random.random() < self.guest_ratio
        who = n if guest or random.random() < 0.5 else random.randint(1, self.returning)
        return {"guest": guest, "email": f"demo{who}@example.com", "first_name": "Demo", "last_name": f"Buyer{who}",
                "payment_code": "P", "shipping_method": random.choice(["UPS Ground", "FedEx"]),
                "payment_method": "PayPal" if random.random() < 0.2 else "Credit Card",
                "items": items, "shipping": "5.00", "tax": "1.20"}

    def _place(self, http: httpx.Client, n: int) -> tuple[str, float]:
        """Places order `n`; (the store's order id = an order result's source_entity_id, when it
        was placed in epoch ms)."""
        made = http.post(f"{self.url}/_sim/orders", json=self._spec(n)).json()
        return str(made["id"]), made["created_at_ms"]

    def _run(self) -> None:
        http = httpx.Client(timeout=10)
        n, interval, next_at = 0, 1.0 / self.rate, time.monotonic()
        while not self._stop.is_set():
            n += 1
            try:
                order_id, placed_ms = self._place(http, n)
                self.created_ms[order_id] = placed_ms
            except (httpx.HTTPError, KeyError, ValueError):
                self.errors += 1
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))


class Shift4ShopDemoDriver(DemoDriver):
    """The same mix on the Shift4Shop simulator: lines at the store's own prices (seeded from Sage's
    WEB price list), guests (CustomerID 0), shoppers registering at checkout (Customer New) and
    returning ones by their CustomerID; one Sale transaction per order (a Sage receipt)."""

    def __init__(self, url: str, rate_per_s: float, **kw) -> None:
        super().__init__(url, rate_per_s, **kw)
        self._customers: dict[str, int] = {}           # e-mail -> CustomerID

    def _spec(self, n: int) -> dict:
        base = super()._spec(n)
        items = [{"sku": i["sku"], "quantity": i["amount"]} for i in base["items"] if i["sku"] != "DISCONTINUED-9"]
        if len(items) < len(base["items"]):
            items.append({"sku": "DISCONTINUED-9", "quantity": 1, "unit_price": "1.00", "name": "Old stock"})
        spec = {"items": items, "email": base["email"], "shipping": base["shipping"], "tax": base["tax"],
                "shipping_method": base["shipping_method"], "payment_method": base["payment_method"], "paid": True,
                "billing": {"first_name": base["first_name"], "last_name": base["last_name"]}}
        if not base["guest"]:
            known = self._customers.get(base["email"])
            spec |= {"customer_id": known} if known else {"register_customer": True}
        return spec

    def _place(self, http: httpx.Client, n: int) -> tuple[str, float]:
        placed_ms = time.time() * 1000
        spec = self._spec(n)
        r = http.post(f"{self.url}/_sim/orders", json=spec)
        r.raise_for_status()
        made = r.json()
        if made.get("CustomerID"):
            self._customers[spec["email"]] = made["CustomerID"]
        return str(made["OrderID"]), placed_ms


class ThreeDCartDemoDriver(DemoDriver):
    """The same mix on the 3dcart SOAP simulator (its orders name their unit prices); a registered
    shopper is a store customer with that e-mail, added before the first order."""

    def __init__(self, url: str, rate_per_s: float, **kw) -> None:
        super().__init__(url, rate_per_s, **kw)
        self._customers: set[str] = set()

    def _spec(self, n: int) -> dict:
        base = super()._spec(n)
        items = [{"sku": i["sku"], "name": i["name"], "quantity": i["amount"], "unit_price": i["price"]}
                 for i in base["items"]]
        return {"items": items, "email": base["email"], "first_name": base["first_name"],
                "last_name": base["last_name"], "shipping": base["shipping"], "tax": base["tax"],
                "payment_method": "PayPal" if base["payment_method"] == "PayPal" else "Online Credit Card",
                "registered": not base["guest"]}

    def _place(self, http: httpx.Client, n: int) -> tuple[str, float]:
        placed_ms = time.time() * 1000
        spec = self._spec(n)
        if spec.pop("registered") and spec["email"] not in self._customers:
            http.post(f"{self.url}/_sim/customers", json={k: spec[k] for k in ("email", "first_name", "last_name")}
                      ).raise_for_status()
            self._customers.add(spec["email"])
        r = http.post(f"{self.url}/_sim/orders", json=spec)
        r.raise_for_status()
        return str(r.json()["order_id"]), placed_ms


DRIVERS = {"xcart": DemoDriver, "shift4shop": Shift4ShopDemoDriver, "threedcart": ThreeDCartDemoDriver}


def demo_driver_for(kind: str, store_url: str, rate_per_s: float) -> DemoDriver:
    return DRIVERS[kind](store_url, rate_per_s)
