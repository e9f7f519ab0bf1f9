"""List filters of GET /Orders, /Products and /Customers (shift4shop.md §1.3).

Semantics the simulator applies (the reference documents names and formats, not edge behaviour):
- `datestart`/`dateend` (`mm/dd/yyyy hh:mm:ss`, store-local) bound `OrderDate`, both inclusive; a bare
  `mm/dd/yyyy` reads as that day's midnight, as a SQL datetime comparison would.
- `lastupdatestart`/`lastupdateend` are DATES (`mm/dd/yyyy`, §1.3): the store-local *day* of
  `LastUpdate` is compared, so `lastupdatestart=12/01/2026` includes everything changed on that whole
  local day (00:00-23:59:59) and `lastupdateend=12/01/2026` includes the whole day too. A time part,
  if sent, is dropped.
- Integer filters are exact (`invoicenumber`, `orderstatus`) or inclusive ranges
  (`invoicenumberstart/end`); text filters (`invoiceprefix`, `billingemail`, `email`, `sku`) are exact,
  case-insensitive.
- ASSUMPTION (not in the reference): a filter value that cannot be parsed (a date in another format,
  "abc" for an integer) is silently ignored, as many real APIs do with filters they cannot bind;
  the caller then gets the list without that filter. Each ignored filter is logged.
Unknown parameters are ignored.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from .clock import StoreClock, day_bounds, parse_filter_date, parse_filter_datetime
from .wire import int_filter

log = logging.getLogger(__name__)

Predicate = Callable[[dict[str, Any]], bool]


class Filters:
    """Builds predicates from query parameters; remembers which were applied and which ignored."""

    def __init__(self, params: Mapping[str, str], clock: StoreClock) -> None:
        self.params = {k.lower(): v for k, v in params.items()}
        self.clock = clock
        self.predicates: list[Predicate] = []
        self.ignored: list[str] = []

    def _raw(self, name: str) -> str | None:
        raw = self.params.get(name)
        return None if raw is None or raw.strip() == "" else raw

    def _ignore(self, name: str) -> None:
        log.info("ignoring unparsable filter %s=%r", name, self.params.get(name))
        self.ignored.append(name)

    def int_eq(self, name: str, get: Callable[[dict[str, Any]], int]) -> "Filters":
        raw = self._raw(name)
        if raw is not None:
            value = int_filter(raw)
            if value is None:
                self._ignore(name)
            else:
                self.predicates.append(lambda r, v=value: get(r) == v)
        return self

    def int_bound(self, name: str, get: Callable[[dict[str, Any]], int], lower: bool) -> "Filters":
        raw = self._raw(name)
        if raw is not None:
            value = int_filter(raw)
            if value is None:
                self._ignore(name)
            elif lower:
                self.predicates.append(lambda r, v=value: get(r) >= v)
            else:
                self.predicates.append(lambda r, v=value: get(r) <= v)
        return self

    def text_eq(self, name: str, get: Callable[[dict[str, Any]], str]) -> "Filters":
        raw = self._raw(name)
        if raw is not None:
            want = raw.strip().lower()
            self.predicates.append(lambda r: get(r).strip().lower() == want)
        return self

    def text_contains(self, name: str, get: Callable[[dict[str, Any]], str]) -> "Filters":
        raw = self._raw(name)
        if raw is not None:
            want = raw.strip().lower()
            self.predicates.append(lambda r: want in get(r).lower())
        return self

    def datetime_range(self, start: str, end: str, get: Callable[[dict[str, Any]], float]) -> "Filters":
        """Bounds are store-local times, converted to UTC epochs once (records hold UTC epochs)."""
        for name, lower in ((start, True), (end, False)):
            raw = self._raw(name)
            if raw is None:
                continue
            bound = parse_filter_datetime(raw)
            if bound is None:
                self._ignore(name)
                continue
            self._epoch_bound(get, self.clock.local_to_epoch(bound), lower, inclusive=True)
        return self

    def date_range(self, start: str, end: str, get: Callable[[dict[str, Any]], float]) -> "Filters":
        """Whole store-local days: start day D keeps times >= D 00:00 local, end day D keeps times
        < (D+1) 00:00 local."""
        for name, lower in ((start, True), (end, False)):
            raw = self._raw(name)
            if raw is None:
                continue
            day = parse_filter_date(raw)
            if day is None:
                self._ignore(name)
                continue
            first, after = day_bounds(day)
            if lower:
                self._epoch_bound(get, self.clock.local_to_epoch(first), True, inclusive=True)
            else:
                self._epoch_bound(get, self.clock.local_to_epoch(after), False, inclusive=False)
        return self

    def _epoch_bound(self, get, epoch: float, lower: bool, inclusive: bool) -> None:
        if lower:
            self.predicates.append(lambda r: get(r) >= epoch)
        elif inclusive:
            # wire times have whole seconds: "<= 23:45:00" keeps 23:45:00.9 as the wire shows it
            self.predicates.append(lambda r: get(r) < epoch + 1)
        else:
            self.predicates.append(lambda r: get(r) < epoch)

    def match(self, record: dict[str, Any]) -> bool:
        return all(p(record) for p in self.predicates)


def order_filters(params: Mapping[str, str], clock: StoreClock) -> Filters:
    """GET /Orders filters (§1.3)."""
    return (Filters(params, clock)
            .int_eq("invoicenumber", lambda r: r["InvoiceNumber"])
            .int_bound("invoicenumberstart", lambda r: r["InvoiceNumber"], lower=True)
            .int_bound("invoicenumberend", lambda r: r["InvoiceNumber"], lower=False)
            .text_eq("invoiceprefix", lambda r: r["InvoiceNumberPrefix"])
            .int_eq("orderstatus", lambda r: r["OrderStatusID"])
            .datetime_range("datestart", "dateend", lambda r: r["OrderDate"])
            .date_range("lastupdatestart", "lastupdateend", lambda r: r["LastUpdate"])
            .text_eq("billingemail", lambda r: r["BillingEmail"]))


def product_filters(params: Mapping[str, str], clock: StoreClock) -> Filters:
    """GET /Products filters used by the hub (§1.3: sku, name, lastupdatestart/end)."""
    return (Filters(params, clock)
            .text_eq("sku", lambda r: r["SKUInfo"]["SKU"])
            .text_contains("name", lambda r: r["SKUInfo"]["Name"])
            .int_eq("catalogid", lambda r: r["SKUInfo"]["CatalogID"])
            .date_range("lastupdatestart", "lastupdateend", lambda r: r["LastUpdate"]))


def customer_filters(params: Mapping[str, str], clock: StoreClock) -> Filters:
    """GET /Customers filters (§1.3: email, firstname, lastname, lastupdatestart/end)."""
    return (Filters(params, clock)
            .text_eq("email", lambda r: r["Email"])
            .text_eq("firstname", lambda r: r["BillingFirstName"])
            .text_eq("lastname", lambda r: r["BillingLastName"])
            .date_range("lastupdatestart", "lastupdateend", lambda r: r["LastUpdate"]))
