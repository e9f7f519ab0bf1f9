"""Demo traffic on the ERP side, for `sagebridge-dev up`: changes made inside Sage 300
(`ErpDemoDriver`), Sage Intacct (`IntacctDemoDriver`) or Sage Pro (`SageProDemoDriver`);
`erp_demo_driver_for` picks one by ERP kind.

The Sage 300 simulator's ERP-side driver (`POST /_sim/erp/*`, simulators/sagebridge_sim/sage300/
erp_routes.py) changes the company's tables as Sage's own screens would, stamped with AUDTDATE and
AUDTTIME; erp-cdc picks the rows up and the storefront writer brings them to X-Cart. This driver
plays the warehouse and the merchandiser: stock receipts, price changes on the web price list,
shipping (with a tracking number) some of the orders that reached Sage from the store, and now and
then an item made inactive (and later active again) so the store disables and re-enables it.
"""
from __future__ import annotations

import random
import threading
from collections import Counter, deque
from decimal import Decimal

import httpx

from sagebridge_sim.sage300.demo_company import DEMO_ITEMS, DEMO_PRICES

from .demo import CATALOGUE

ITEMS = [item["FMTITEMNO"] for item in DEMO_ITEMS]
# Items the demo orders never use: only these are made inactive, so no store order is refused for
# an inactive item (that would be the ERP refusing the order, not the flow this shows).
TOGGLEABLE = [i for i in ITEMS if i not in {sku for sku, _n, _p in CATALOGUE}]


class ErpDemoDriver:
    """Every 1/`rate_per_s` seconds one change: a stock receipt, a price change, or (one in
    `toggle_every`) an item made inactive or active again; beside it the oldest order waiting for
    the warehouse is shipped. About `ship_ratio` of the orders the store->ERP flow reports created
    (`order_reached_sage`) wait for the warehouse."""

    def __init__(self, sage_url: str, rate_per_s: float, ship_ratio: float = 0.25, toggle_every: int = 25,
                 location: str = "1") -> None:
        self.url = sage_url
        self.rate = rate_per_s
        self.ship_ratio = ship_ratio
        self.toggle_every = toggle_every
        self.location = location
        self.made: Counter = Counter()               # change kind -> how many Sage took
        self.errors = 0
        self._to_ship: deque = deque(maxlen=1000)      # Sage order numbers waiting for the warehouse
        self._inactive: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="erp-demo-driver", daemon=True)

    def start(self) -> "ErpDemoDriver":
        if self.rate > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def order_reached_sage(self, sage_order_number: str | None) -> None:
        """Called for each order the ERP writer created; some are queued for shipping."""
        if sage_order_number and random.random() < self.ship_ratio:
            with self._lock:
                self._to_ship.append(sage_order_number)

    # -- the changes of one tick ---------------------------------------------------------------------
    def next_shipment(self) -> tuple[str, str, dict] | None:
        """The oldest queued order, shipped whole with a tracking number (UPS-like)."""
        with self._lock:
            order = self._to_ship.popleft() if self._to_ship else None
        if order is None:
            return None
        return "shipment", "ship", {"order": order, "tracking": f"1Z{random.randrange(10**15):015d}"}

    def next_change(self) -> tuple[str, str, dict]:
        """(kind, driver route, body) of the tick's stock, price or item change."""
        if self.toggle_every and random.randrange(self.toggle_every) == 0:
            if self._inactive:
                item = self._inactive.pop(0)
                return "item active", "item", {"item": item, "changes": {"INACTIVE": 0}}
            item = random.choice(TOGGLEABLE)
            self._inactive.append(item)
            return "item inactive", "item", {"item": item, "changes": {"INACTIVE": 1}}
        item = random.choice(ITEMS)
        if random.random() < 0.6:
            return "stock receipt", "stock", {"item": item, "location": self.location,
                                              "quantity": str(random.randint(5, 50)), "kind": "receive"}
        base = Decimal(DEMO_PRICES[item])
        price = (base * Decimal(random.randint(90, 110)) / 100).quantize(Decimal("0.01"))
        return "price change", "price", {"item": item, "price": str(price), "price_list": "WEB", "currency": "USD"}

    def _run(self) -> None:
        http = httpx.Client(timeout=10)
        interval = 1.0 / self.rate
        while not self._stop.wait(interval):
            for change in (self.next_shipment(), self.next_change()):
                if change:
                    self._make(http, *change)

    route_prefix = "/_sim/erp/"      # the Sage 300 simulator's ERP-side routes

    def _make(self, http: httpx.Client, kind: str, route: str, body: dict) -> None:
        try:
            r = http.post(f"{self.url}{self.route_prefix}{route}", json=body)
        except httpx.HTTPError:
            self.errors += 1
            return
        if r.status_code < 300:
            self.made[kind] += 1
        else:
            self.errors += 1


class IntacctDemoDriver(ErpDemoDriver):
    """The same warehouse and merchandiser inside Sage Intacct, through the Intacct simulator's
    ERP-side routes (`POST /_sim/stock|items|ship`): a stock count (ITEMWAREHOUSEINFO QTYONHAND set
    absolutely, as a count adjustment leaves it), a new BASEPRICE, an item made inactive and active
    again, and orders converted to a `Shipper` with a tracking number. `order_reached_sage` is told
    the sales order's DOCID (`Sales Order-SO-00001`)."""

    route_prefix = "/_sim/"

    def __init__(self, intacct_url: str, rate_per_s: float, warehouse: str = "WH1", **kw) -> None:
        super().__init__(intacct_url, rate_per_s, location=warehouse, **kw)

    def next_shipment(self) -> tuple[str, str, dict] | None:
        with self._lock:
            docid = self._to_ship.popleft() if self._to_ship else None
        if docid is None:
            return None
        return "shipment", "ship", {"docid": docid, "tracking": f"1Z{random.randrange(10**15):015d}",
                                    "carrier": "UPS Ground"}

    def next_change(self) -> tuple[str, str, dict]:
        if self.toggle_every and random.randrange(self.toggle_every) == 0:
            if self._inactive:
                return "item active", "items", {"ITEMID": self._inactive.pop(0), "STATUS": "active"}
            item = random.choice(TOGGLEABLE)
            self._inactive.append(item)
            return "item inactive", "items", {"ITEMID": item, "STATUS": "inactive"}
        item = random.choice(ITEMS)
        if random.random() < 0.6:
            return "stock receipt", "stock", {"ITEMID": item, "WAREHOUSEID": self.location,
                                              "QTYONHAND": str(random.randint(100, 1500)), "QTYONHOLD": "0"}
        base = Decimal(DEMO_PRICES[item])
        price = (base * Decimal(random.randint(90, 110)) / 100).quantize(Decimal("0.01"))
        return "price change", "items", {"ITEMID": item, "BASEPRICE": str(price)}


class SageProDemoDriver(ErpDemoDriver):
    """The same warehouse and merchandiser inside Sage Pro, through the Sage Pro simulator's control
    app (`POST /_sim/stock|price|item|ship`), which changes the company tables as Sage Pro's screens
    would (reference sage300_sagepro.md §3): iciloc lonhand set by a count, an icpric WEB price, an
    icitem made inactive and active again, and an order shipped (somast sostat S, sotrack, shipdate).
    `order_reached_sage` is told the order's sono (the writer's target document id)."""

    route_prefix = "/_sim/"

    def __init__(self, sagepro_url: str, rate_per_s: float, location: str = "MAIN", **kw) -> None:
        super().__init__(sagepro_url, rate_per_s, location=location, **kw)

    def next_shipment(self) -> tuple[str, str, dict] | None:
        with self._lock:
            sono = self._to_ship.popleft() if self._to_ship else None
        if sono is None:
            return None
        return "shipment", "ship", {"sono": sono, "tracking": f"1Z{random.randrange(10**15):015d}"}

    def next_change(self) -> tuple[str, str, dict]:
        if self.toggle_every and random.randrange(self.toggle_every) == 0:
            if self._inactive:
                return "item active", "item", {"item": self._inactive.pop(0), "changes": {"status": "A"}}
            item = random.choice(TOGGLEABLE)
            self._inactive.append(item)
            return "item inactive", "item", {"item": item, "changes": {"status": "I"}}
        item = random.choice(ITEMS)
        if random.random() < 0.6:
            return "stock receipt", "stock", {"item": item, "location": self.location,
                                              "on_hand": str(random.randint(100, 1500))}
        base = Decimal(DEMO_PRICES[item])
        price = (base * Decimal(random.randint(90, 110)) / 100).quantize(Decimal("0.01"))
        return "price change", "price", {"item": item, "pcode": "WEB", "price": str(price)}


DRIVERS: dict[str, type[ErpDemoDriver]] = {"sage300": ErpDemoDriver, "intacct": IntacctDemoDriver,
                                           "sagepro": SageProDemoDriver}


def erp_demo_driver_for(kind: str, erp_url: str, rate_per_s: float) -> ErpDemoDriver:
    """The ERP-side demo of the pair's ERP (`sage300` | `intacct` | `sagepro`)."""
    return DRIVERS[kind](erp_url, rate_per_s)
