"""The `/_sim/` driver (contract §3): inspect, reset, fault, and act as an ERP user would.

Never faulted, never counted as API transactions. Every ERP-side change bumps WHENMODIFIED to the
sim clock (seconds resolution: equal stamps happen). Errors answer 400/404 with {"detail": ...}.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Body, FastAPI, HTTPException

from . import erp_driver
from .seed import seed_demo, set_stock, upsert_item
from .sim_faults import KINDS
from .wire import Failure

ITEM_FIELDS = {"ITEMID", "NAME", "STATUS", "ITEMTYPE", "BASEPRICE", "EXTENDED_DESCRIPTION", "PRODUCTLINEID"}


def _dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise HTTPException(400, f"{name} is not a number: {value!r}") from None


def install_sim_routes(app: FastAPI) -> None:
    st = app.state

    @app.get("/_sim/state")
    def get_state():
        return st.company.view()

    @app.get("/_sim/transactions")
    def transactions():
        with st.company.lock:
            return st.company.transactions_view()

    @app.post("/_sim/reset")
    def reset(body: dict = Body(default_factory=dict)):
        """Empty company (then the demo seed again unless {"seed": false}); sessions and faults cleared."""
        st.company.reset()
        if body.get("seed", st.seed):
            seed_demo(st.company)
        st.sessions.expire_all()
        st.injector.configure(reset=True)
        from .sim_faults import IntacctFaults
        with st.intacct_faults.lock:
            st.intacct_faults.plan = IntacctFaults()
        return {"reset": True}

    @app.post("/_sim/faults")
    def set_faults(changes: dict = Body(default_factory=dict)):
        ours = {k: changes.pop(k) for k in list(changes) if k in KINDS}
        try:
            if changes:
                st.injector.configure(**changes)
            elif ours == {} and not changes:
                pass
        except ValueError as e:
            raise HTTPException(400, str(e))
        if "session_timeout_s" in ours:
            st.sessions.timeout_s = float(ours.pop("session_timeout_s"))
        f = st.intacct_faults
        with f.lock:
            if changes.get("reset"):
                from .sim_faults import IntacctFaults
                f.plan = IntacctFaults()
            for k, v in ours.items():
                setattr(f.plan, k, int(v))
        return get_faults()

    @app.get("/_sim/faults")
    def get_faults():
        return {**st.injector.snapshot(), **st.intacct_faults.snapshot(), "session_timeout_s": st.sessions.timeout_s}

    @app.post("/_sim/expire_sessions")
    def expire_sessions():
        return {"expired": st.sessions.expire_all()}

    @app.post("/_sim/items")
    def items(body: dict = Body(...)):
        """Upsert an ITEM: {ITEMID, NAME?, STATUS?, ITEMTYPE?, BASEPRICE?, EXTENDED_DESCRIPTION?, PRODUCTLINEID?}."""
        unknown = set(body) - ITEM_FIELDS
        if unknown or not body.get("ITEMID"):
            raise HTTPException(400, f"ITEMID required; unknown fields {sorted(unknown)}")
        if "BASEPRICE" in body:
            body["BASEPRICE"] = _dec(body["BASEPRICE"], "BASEPRICE")
        with st.company.lock:
            return _flat(st, upsert_item(st.company, body))

    @app.post("/_sim/stock")
    def stock(body: dict = Body(...)):
        """{ITEMID, WAREHOUSEID, QTYONHAND?, QTYONHOLD?, QTYONORDER?}."""
        itemid, wh = body.get("ITEMID"), body.get("WAREHOUSEID")
        with st.company.lock:
            if not st.company.one("ITEM", ITEMID=itemid):
                raise HTTPException(404, f"no ITEM {itemid}")
            if wh not in st.company.ref.warehouses:
                raise HTTPException(400, f"no WAREHOUSE {wh}")
            qty = {k: _dec(body[k], k) for k in ("QTYONHAND", "QTYONHOLD", "QTYONORDER") if k in body}
            return _flat(st, set_stock(st.company, itemid, wh, **qty))

    @app.post("/_sim/customers")
    def customers(body: dict = Body(...)):
        """A CUSTOMER as an ERP user adds it: flat dotted fields ({"CUSTOMERID", "NAME",
        "DISPLAYCONTACT.EMAIL1", ...}); PRINTAS defaults to NAME. Same checks as the API create."""
        from .fn_customers import seed_customer
        body = dict(body)
        body.setdefault("DISPLAYCONTACT.PRINTAS", body.get("NAME", ""))
        with st.company.lock:
            try:
                return _flat(st, seed_customer(st.company, body))
            except Failure as f:
                raise HTTPException(400, str(f))

    @app.post("/_sim/ship")
    def ship(body: dict = Body(...)):
        with st.company.lock:
            return erp_driver.ship(st.company, body)

    @app.post("/_sim/invoice")
    def invoice(body: dict = Body(...)):
        with st.company.lock:
            return erp_driver.invoice(st.company, body)

    @app.post("/_sim/state_of_order")
    def state_of_order(body: dict = Body(...)):
        with st.company.lock:
            return erp_driver.state_of_order(st.company, body)


def _flat(st, row: dict) -> dict:
    from .values import render
    return {k: render(v, st.company.clock) for k, v in row.items()}
