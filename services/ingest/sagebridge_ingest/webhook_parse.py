"""Strict reading of a push notification body, so any shape we do not expect is a 400, never a 500.

The body arrives from the internet: it is signed, but a signed body can still be hostile or buggy.
So it must be UTF-8 JSON (RFC 8259 §8.1), an object without repeated keys (RFC 8259 §4 leaves their
meaning to the parser, so we refuse them rather than guess which one counts), nested no deeper than
Python's recursion limit allows, with `event` one of ours and the id it names an X-Cart id: a JSON
integer or a string of ASCII digits, 1 <= id < 2^63 (the store's ids are positive 64-bit integers).

The push module's events (README, "The X-Cart push webhook"): order events name `order_id`,
customer events `profile_id`; other keys (`order_number`, `login`, `occurred_at`, ...) are allowed
and ignored, since ingest fetches the record itself.
"""
from __future__ import annotations

import json

ORDER_EVENTS = frozenset({"order.created", "order.updated", "order.status_changed", "order.payment_status_changed",
                          "order.shipping_status_changed", "order.tracking_added"})
CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})
EVENTS = ORDER_EVENTS | CUSTOMER_EVENTS
# event -> (entity_type the notification names, the body key holding its id)
_SUBJECT = {**{e: ("order", "order_id") for e in ORDER_EVENTS}, **{e: ("profile", "profile_id") for e in CUSTOMER_EVENTS}}
_MAX_ID = 2 ** 63
_MAX_ID_DIGITS = 19


class Refusal(Exception):
    """A request we answer with a 4xx/5xx and a JSON error; `close` ends the connection after it."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.close = close


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, object]]) -> dict:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise _DuplicateKey("duplicate key")
    return doc


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_no_constant)   # built once, not per call


def _loads(body: bytes) -> object:
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except _DuplicateKey:
        raise Refusal(400, "body repeats a JSON key") from None
    except RecursionError:
        raise Refusal(400, "body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):   # JSONDecodeError, int() digit limit, bad UTF-8
        raise Refusal(400, "body is not valid UTF-8 JSON") from None


def id_of(value: object) -> str | None:
    """The order id as canonical decimal text, or None when `value` is not a valid id."""
    if type(value) is int:          # not bool, not float
        n = value
    elif type(value) is str and 0 < len(value) <= _MAX_ID_DIGITS and value.isascii() and value.isdigit():
        n = int(value)
    else:
        return None
    return str(n) if 0 < n < _MAX_ID else None


order_id_of = id_of
loads_strict = _loads        # the same strict JSON reading for the other storefronts' webhook bodies


def parse_notification(body: bytes) -> dict:
    """`{"event", "entity_type", "entity_id"}` from a push body (entity_type "order" or "profile");
    raises Refusal(400) for anything else."""
    doc = _loads(body)
    if type(doc) is not dict:
        raise Refusal(400, "body must be a JSON object")
    event = doc.get("event")
    if type(event) is not str or event not in EVENTS:
        shown = repr(event[:40]) if type(event) is str else f"of type {type(event).__name__}"
        raise Refusal(400, f"unknown event {shown}")
    entity_type, key = _SUBJECT[event]
    entity_id = id_of(doc.get(key))
    if entity_id is None:
        raise Refusal(400, f"{key} must be an integer 1 <= id < 2^63 (JSON number or ASCII digits)")
    return {"event": event, "entity_type": entity_type, "entity_id": entity_id}
