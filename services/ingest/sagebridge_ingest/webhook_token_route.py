"""`POST /webhooks/{storefront}/{pair}/{webhook_token}`: webhooks from a store that signs nothing.

Shift4Shop's webhooks carry no signature or secret of any kind (shift4shop.md §3: "No signing
mechanism appears in any source"), so the only secret a delivery can carry is its URL: the merchant
registers `.../webhooks/shift4shop/<pair>/<webhook_token>`, and the last path segment is compared,
in constant time (hmac.compare_digest), with the pair file's `storefront.webhook_token`. An empty
configured token refuses every delivery (401; logged as a warning at start), so a pair file that
forgets the token never opens an unauthenticated door. The token is a secret like a password: it
never appears in a log line (`loggable_path` cuts it off), a metric label (counters are labelled by
storefront kind and status only) or a response.

An optional source-address allow list (`storefront.webhook_allow_ips`, CIDRs; empty = any) is
checked first. Behind a reverse proxy the peer is the proxy; `IngestSettings.webhook_trusted_proxies`
lists the proxies whose `X-Forwarded-For` is believed: walking the header from the right, the first
address that is not a trusted proxy is the client. The header of any other peer is ignored (anyone
can write it), and an entry that is not a bare IP address makes the client unknown, so refused.

Answers, and nothing is produced for any refusal: 404 unknown pair, 405 not POST, 403 source address
not allowed, 401 wrong or missing token, 400 ambiguous framing, wrong content type or a body that
names no entity (webhook_parse_shift4shop.py), 413 body over WEBHOOK_MAX_BODY_BYTES, 408 body too
slow, 503 broker did not acknowledge. One notification per named entity, all produced, and 202 only
once the broker acknowledged every one of them (as for X-Cart's route, webhook.py).

Which pairs get such a route: those whose storefront block has a `webhook_token` (read with getattr,
so ingest needs no connector import); the route segment is the block's `kind`.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from sagebridge_common import metrics

from .webhook_parse import Refusal
from .webhook_parse_shift4shop import parse_shift4shop

log = logging.getLogger(__name__)
ROUTE_PREFIX = "/webhooks/"
STATUSES = (202, 400, 401, 403, 405, 408, 413, 500, 503)
_XFF = b"x-forwarded-for"
_CONTENT_TYPE = b"content-type"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TokenPairRoute:
    """What one pair's token-authenticated webhook is: storefront kind, store instance, the secret
    URL token ("" refuses everything) and the allowed source networks (CIDR text; empty = any)."""
    storefront: str
    instance: str
    token: str
    allow_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenRoute:
    pair_id: str
    storefront: str
    instance: str
    token: bytes
    allow: tuple[Network, ...]
    counters: Mapping[int, Any]


def networks(cidrs: Iterable[str], what: str) -> tuple[Network, ...]:
    """CIDR text -> networks (host bits allowed: "10.1.2.3/8" is 10.0.0.0/8); a bad entry fails
    start-up with `what` named, rather than silently allowing or refusing everyone."""
    out = []
    for cidr in cidrs:
        try:
            out.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{what}: {cidr!r} is not an IP network (CIDR)") from None
    return tuple(out)


def _address(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)     # ::ffff:10.0.0.1 on a dual-stack socket is 10.0.0.1
    return mapped or ip


def _within(ip: Address, nets: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in nets)


def client_address(scope: dict, headers: list[tuple[bytes, bytes]], trusted: Sequence[Network]) -> Address | None:
    """The delivering client's address (see the module docstring), None when it cannot be known."""
    client = scope.get("client")
    peer = _address(client[0]) if client else None
    if peer is None or not trusted or not _within(peer, trusted):
        return peer
    hops = [hop for name, value in headers if name == _XFF for hop in value.decode("latin-1").split(",")]
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None or not _within(ip, trusted):
            return ip
        peer = ip
    return peer


def loggable_path(path: str) -> str:
    """`path` as a log line may show it: under /webhooks/ only the storefront and pair segments, so
    a token segment (or anything a client appends) is never written to a log."""
    if not path.startswith(ROUTE_PREFIX):
        return path[:200]
    segments = path[len(ROUTE_PREFIX):].split("/")
    shown = ROUTE_PREFIX + "/".join(segments[:2])
    return (shown + "/<redacted>" if len(segments) > 2 else shown)[:200]


class TokenRoutes:
    """The token routes by path prefix `/webhooks/<kind>/<pair>`; `match` finds the route and the
    token segment of a request path."""

    def __init__(self, routes: Mapping[str, TokenPairRoute]) -> None:
        self._by_head: dict[str, TokenRoute] = {}
        for pair, r in routes.items():
            if not r.token:
                log.warning("webhook token of this pair is empty: its webhook refuses every delivery (401)",
                            extra={"pair_id": pair, "storefront": r.storefront})
            counters = {status: metrics.WEBHOOK_REQUESTS.labels(r.storefront, str(status)) for status in STATUSES}
            allow = networks(r.allow_ips, f"pair {pair}: storefront.webhook_allow_ips")
            self._by_head[f"{ROUTE_PREFIX}{r.storefront}/{pair}"] = TokenRoute(
                pair, r.storefront, r.instance, r.token.encode("utf-8"), allow, counters)

    def __bool__(self) -> bool:
        return bool(self._by_head)

    def match(self, path: str) -> tuple[TokenRoute, str] | None:
        """(route, token) for `/webhooks/<kind>/<pair>/<token>`; the token is "" when the path ends
        at the pair (or its slash), None for any other path."""
        head, _, token = path.rpartition("/")
        route = self._by_head.get(head)
        if route is not None:
            return route, token
        route = self._by_head.get(path)
        return (route, "") if route is not None else None


def check_caller(route: TokenRoute, token: str, scope: dict, headers: list[tuple[bytes, bytes]],
                 trusted: Sequence[Network]) -> None:
    """Source address (403), then token (401); raises Refusal. The token comparison takes the same
    time wherever the first wrong byte is; an empty configured token matches nothing. These refusals
    come before the body is read, so they close the connection (no unread body is left to frame)."""
    if route.allow:
        ip = client_address(scope, headers, trusted)
        if ip is None or not _within(ip, route.allow):
            raise Refusal(403, "source address not allowed for this webhook", close=True)
    given = token.encode("utf-8", "surrogateescape")
    if not route.token or not hmac.compare_digest(given, route.token):
        raise Refusal(401, "missing or wrong webhook token", close=True)


def parse_body(raw: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """The notifications a Shift4Shop body names (Refusal(400) otherwise)."""
    content_type = next((value for name, value in headers if name == _CONTENT_TYPE), None)
    return parse_shift4shop(raw, content_type)


def token_routes_from_pairs(pairs: Mapping) -> dict[str, TokenPairRoute]:
    """One route per served pair whose storefront block has a `webhook_token` (e.g. shift4shop)."""
    out = {}
    for pid, pair in pairs.items():
        block = pair.storefront
        token = getattr(block, "webhook_token", None)
        if token is None:
            continue
        secret = token.get_secret_value() if hasattr(token, "get_secret_value") else str(token)
        out[pid] = TokenPairRoute(block.kind, block.instance, secret,
                                  tuple(getattr(block, "webhook_allow_ips", None) or ()))
    return out
