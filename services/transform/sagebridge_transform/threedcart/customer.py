"""3dcart SOAP customer (`getCustomer` result, `CustomersRequestResponse/Customer`; shift4shop.md §4
and the recorded getCustomers mock) → v2 Customer, through the REST customer's builder.

Ingest's payload is `{"customer": <the Customer element as a dict>}`: CustomerID, BillingAddress
{FirstName, LastName, Address, Address2, City, StateCode, ZipCode, CountryCode, Company, Phone,
Email}, ShippingAddress{same}, LastUpdate ("6/22/2009" or "4/13/2014 4:44:50 AM", store-local).
The e-mail is the billing address's. created_at is when the hub saw the record (no creation date).
"""
from __future__ import annotations

from datetime import datetime

from sagebridge_common.pairs import PairConfig

from ..shift4shop.customer import canonical_customer
from ..shift4shop.values import malformed_is_permanent, parse_json, store_time, text
from .order import parts


def parse_payload(payload: str) -> dict:
    return parse_json(payload, "customer")


@malformed_is_permanent("3dcart SOAP customer", "invalid_customer")
def customer_from_record(doc: dict, pair: PairConfig, metadata: dict, source_version: str,
                         seen_at: datetime) -> dict | None:
    c = doc["customer"]
    billing = parts(c.get("BillingAddress"))
    last = c.get("LastUpdate")
    updated = store_time(last, pair.zone, "LastUpdate", "invalid_customer") if text(last) else seen_at
    return canonical_customer(text(c.get("CustomerID")), text(billing.email), billing,
                              parts(c.get("ShippingAddress")), pair, metadata, source_version,
                              min(seen_at, updated), updated)
