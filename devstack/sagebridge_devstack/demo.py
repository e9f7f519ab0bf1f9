"""Demo traffic on the store side, for `sagebridge-dev up`: X-Cart orders placed at a steady rate."""
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

    def _run(self) -> None:
        http = httpx.Client(timeout=10)
        n, interval, next_at = 0, 1.0 / self.rate, time.monotonic()
        while not self._stop.is_set():
            n += 1
            try:
                made = http.post(f"{self.url}/_sim/orders", json=self._spec(n)).json()
                self.created_ms[str(made["id"])] = made["created_at_ms"]     # an order result's source_entity_id
            except (httpx.HTTPError, KeyError, ValueError):
                self.errors += 1
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))
