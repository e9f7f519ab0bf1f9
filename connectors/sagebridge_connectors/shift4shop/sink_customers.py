"""Customer changes made in the ERP, applied to the Shift4Shop customer with that e-mail.

Found by `GET /Customers?email=` (shift4shop.md §1.3; matched exactly, case-insensitively: the
filter's exactness is not documented); written with `PUT /Customers/{customerid}` (§1.4) carrying
only the fields that differ. Customers use `BillingAddress1` (§2.3, unlike orders'
`BillingAddress`). An ERP customer with no store account is `skipped`: the hub creates none.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError


def wanted_fields(customer: dict[str, Any]) -> dict[str, str]:
    """The Shift4Shop customer fields the ERP record gives (blank values are left alone)."""
    a = customer.get("billing_address") or {}
    out = {"BillingFirstName": customer.get("first_name"), "BillingLastName": customer.get("last_name"),
           "BillingCompany": customer.get("company"), "BillingAddress1": a.get("line1"),
           "BillingAddress2": a.get("line2"), "BillingCity": a.get("city"), "BillingState": a.get("region"),
           "BillingZipCode": a.get("postal_code"), "BillingCountry": a.get("country"),
           "BillingPhoneNumber": a.get("phone") or customer.get("phone")}
    return {k: v.strip() for k, v in out.items() if isinstance(v, str) and v.strip()}


class CustomerWrites:
    client: Any

    def find_customer(self, email: str) -> dict[str, Any] | None:
        rows = self.client.get_list("find_customer", "/Customers", {"email": email, "limit": 10, "offset": 1})
        return next((r for r in rows if str(r.get("Email", "")).strip().casefold() == email.casefold()), None)

    def update_customer(self, customer: dict[str, Any]) -> WriteOutcome:
        email = (customer.get("email") or "").strip()
        if not email:
            return WriteOutcome("skipped", None, "the ERP customer has no e-mail to find a store customer by")
        row = self.find_customer(email)
        if row is None:
            return WriteOutcome("skipped", None, "no store customer has this e-mail (the hub creates none)")
        cid = int(row["CustomerID"])
        changes = {k: v for k, v in wanted_fields(customer).items() if str(row.get(k) or "").strip() != v}
        if not changes:
            return WriteOutcome("already_present", str(cid), None)
        results = self.client.put("update_customer", f"/Customers/{cid}", {"CustomerID": cid, **changes})
        bad = next((r for r in results if not r.ok), None)
        if bad is not None:
            raise PermanentError(f"Shift4Shop refused customer {cid}: {bad.message}", reason="refused_value")
        return WriteOutcome("updated", str(cid), ", ".join(sorted(changes)))
