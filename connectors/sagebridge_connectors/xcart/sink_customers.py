"""Customer changes made in the ERP, applied to the X-Cart profile with that login (e-mail).

X-Cart 5.5 keeps a customer's name, street, phone on the profile's addresses, not on the profile
(reference xcart.md §1b: `login` is the e-mail; addresses are `/api/profiles/{id}/addresses`), and
the login is the key the ERP customer is matched by, so the writable part is the billing address:
`PUT /api/profiles/{id}/addresses/{aid}` with only the fields that differ (or `POST` one when the
profile has no billing address). A profile that is not in the store is `unknown_customer`.
"""
from __future__ import annotations

from typing import Any

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import PermanentError


def wanted_address(customer: dict[str, Any]) -> dict[str, Any]:
    """The X-Cart address fields the ERP customer record gives (blank values are left alone)."""
    a = customer.get("billing_address") or {}
    street = " ".join(p for p in (a.get("line1"), a.get("line2")) if p)
    out = {"firstname": customer.get("first_name"), "lastname": customer.get("last_name"), "street": street,
           "city": a.get("city"), "zipcode": a.get("postal_code"), "country_code": a.get("country"),
           "state_name": a.get("region"), "phone": a.get("phone") or customer.get("phone")}
    return {k: v.strip() for k, v in out.items() if isinstance(v, str) and v.strip()}


class CustomerWrites:
    calls: Any

    def _profile(self, email: str) -> dict[str, Any]:
        rows = self.calls.get("find_profile", "/api/profiles", {"login": email, "itemsPerPage": 100})
        for row in rows:        # `login` is a partial filter: match exactly (logins are case-insensitive)
            if str(row.get("login", "")).casefold() == email.casefold():
                return row
        raise PermanentError("X-Cart has no profile with the customer's e-mail", reason="unknown_customer")

    def update_customer(self, customer: dict[str, Any]) -> WriteOutcome:
        email = (customer.get("email") or "").strip()
        if not email:
            raise PermanentError("the customer has no e-mail to find the X-Cart profile by", reason="unknown_customer")
        pid = int(self._profile(email)["id"])
        wanted = wanted_address(customer)
        if not wanted:
            return WriteOutcome("skipped", str(pid), "no address fields to write")
        addresses = list(self.calls.pages("get_profile_addresses", f"/api/profiles/{pid}/addresses"))
        billing = next((a for a in addresses if a.get("is_billing")), None)
        if billing is None:
            self.calls.post("add_profile_address", f"/api/profiles/{pid}/addresses",
                            {**wanted, "is_billing": True, "is_shipping": not addresses})
            return WriteOutcome("updated", str(pid), "billing address added")
        changes = {k: v for k, v in wanted.items() if billing.get(k) != v}
        if not changes:
            return WriteOutcome("already_present", str(pid), None)
        self.calls.put("update_profile_address", f"/api/profiles/{pid}/addresses/{billing['id']}", changes)
        return WriteOutcome("updated", str(pid), "address " + ", ".join(sorted(changes)))
