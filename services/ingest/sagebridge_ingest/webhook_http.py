"""The webhook's HTTP server: uvicorn on h11, with the limits an internet-facing endpoint needs.

uvicorn bounds idle keep-alive connections (`timeout_keep_alive`) and concurrency
(`limit_concurrency`, answered 503), but it has no deadline on reading a request head: its keep-alive
timer is armed only after a response and cancelled by every byte received, so a client that sends
nothing, or a header a byte a second, holds its connection forever (slowloris). `HeadDeadlineProtocol`
adds that deadline to uvicorn's h11 protocol: whenever the connection is open with no request being
handled (just accepted, after a response, or while the rest of an unread body trickles in), the next
request head must be complete within `header_timeout_s` (checked a few times a second), else a
partial head is answered 408 and the connection closed; a connection that sent nothing is just
closed. Reading the body is bounded in the ASGI app (WEBHOOK_READ_TIMEOUT_S).

Granian (a maintained Rust server) has a header-read timeout of its own, but it runs its own worker
processes, while this endpoint must share the service process with the Kafka producer; subclassing
uvicorn's protocol is the smaller change.

It is pinned to h11 (uvicorn's `auto` picks httptools when installed) because the deadline reads
h11's connection state; uvicorn's own error logs go through the root JSON logger (`log_config=None`).
"""
from __future__ import annotations

import asyncio
import json
import weakref

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from .config import IngestSettings

_TIMEOUT_BODY = json.dumps({"error": "request head not received in time"}, separators=(",", ":")).encode()
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                     b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\nconnection: close\r\n\r\n"
                     + _TIMEOUT_BODY)


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's H11Protocol plus a deadline on each request head (see the module docstring).

    A request pays only for noting the time it starts waiting; one timer per server checks every
    connection a few times a second, instead of a timer armed and cancelled per request."""

    header_timeout_s: float = 10.0
    _waiting_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._note_waiting()
        if self.server_state not in _SWEPT:
            _SWEPT.add(self.server_state)
            self._sweep(self.loop, self.server_state.connections, min(0.5, self.header_timeout_s / 4))

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._note_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._note_waiting()

    def _note_waiting(self) -> None:
        """Waiting on the client with no request in hand; a request in hand is the app's to time
        (body read timeout, broker ack timeout)."""
        if self.cycle is None or self.cycle.response_complete:
            if self._waiting_since is None:
                self._waiting_since = self.loop.time()
        else:
            self._waiting_since = None

    @classmethod
    def _sweep(cls, loop: asyncio.AbstractEventLoop, connections: set, interval: float) -> None:
        now = loop.time()
        for conn in list(connections):
            if isinstance(conn, HeadDeadlineProtocol) and conn._waiting_since is not None \
                    and now - conn._waiting_since >= conn.header_timeout_s:
                conn._expire()
        loop.call_later(interval, cls._sweep, loop, connections, interval)

    def _expire(self) -> None:
        self._waiting_since = None
        if self.transport.is_closing():
            return
        partial_head = self.conn.their_state is h11.IDLE and bool(self.conn.trailing_data[0])
        if partial_head:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


_SWEPT: "weakref.WeakSet[ServerState]" = weakref.WeakSet()


def protocol_with(header_timeout_s: float) -> type[HeadDeadlineProtocol]:
    """A protocol class for one server (uvicorn instantiates the class per connection)."""
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"header_timeout_s": header_timeout_s})


def make_server(asgi_app, settings: IngestSettings) -> uvicorn.Server:
    """The webhook server from IngestSettings (host, port and the WEBHOOK_* limits)."""
    config = uvicorn.Config(
        asgi_app, host=settings.http_host, port=settings.http_port, lifespan="on",
        http=protocol_with(settings.webhook_header_timeout_s),
        timeout_keep_alive=settings.webhook_keepalive_timeout_s,   # type: ignore[arg-type]  (call_later takes floats)
        limit_concurrency=settings.webhook_max_connections,
        log_config=None, log_level="warning", access_log=False)
    return uvicorn.Server(config)
