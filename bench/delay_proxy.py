"""A TCP proxy that delays every packet burst by a fixed time each way: a database 10 ms away from
the hub on a loopback machine (20 ms round trip), for the Sage Pro benchmarks.

Why a proxy: neither PostgreSQL nor psqlODBC can add latency per statement, and the real Sage Pro
database sits on a file server across a LAN/WAN; the writer's design (one transaction per order,
several connections at once) is about round trips, so they must cost what they cost there.

Each direction of each connection has a reader and a writer task: the reader stamps every chunk it
reads with `now + delay` and queues it, the writer sends each chunk when its time comes, in order.
So the delay does not serialise a stream (a burst of chunks arrives `delay` late, together), like a
long link. `client_bursts` counts the times a client starts sending after it last heard from the
server (or first sends): one per request/response round trip, the figure the benchmark divides by
the orders written.

    with DelayProxy("127.0.0.1", pg.port, delay_s=0.010) as proxy:
        odbc = pg.odbc().replace(f"PORT={pg.port}", f"PORT={proxy.port}")
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any


class DelayProxy:
    def __init__(self, target_host: str, target_port: int, delay_s: float = 0.010, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.delay = delay_s
        self.port = port
        self.connections = 0
        self.client_bursts = 0
        self.bytes_up = self.bytes_down = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "DelayProxy":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("delay proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def __enter__(self) -> "DelayProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"connections": self.connections, "client_bursts": self.client_bursts,
                    "bytes_up": self.bytes_up, "bytes_down": self.bytes_down}

    def reset_counts(self) -> None:
        with self._lock:
            self.connections = self.client_bursts = self.bytes_up = self.bytes_down = 0

    # -- the loop ----------------------------------------------------------------------------------
    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, sock=sock))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            tasks = list(asyncio.all_tasks(self._loop))
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.close()
            return
        for w in (c_writer, s_writer):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.connections += 1
        state = {"last": "server"}          # who spoke last on this connection
        up: asyncio.Queue = asyncio.Queue()
        down: asyncio.Queue = asyncio.Queue()
        tasks = [asyncio.ensure_future(t) for t in (
            self._read(c_reader, up, state, "client"), self._write(up, s_writer),
            self._read(s_reader, down, state, "server"), self._write(down, c_writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass                               # the proxy stops: asyncio would report it otherwise
        finally:
            for t in tasks:
                t.cancel()
            for w in (c_writer, s_writer):
                w.close()

    async def _read(self, reader: asyncio.StreamReader, queue: asyncio.Queue, state: dict, side: str) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                await queue.put((time.monotonic() + self.delay, b""))
                await asyncio.sleep(self.delay * 2)        # let the writer deliver the tail first
                return
            with self._lock:
                if side == "client":
                    self.bytes_up += len(data)
                    if state["last"] == "server":
                        self.client_bursts += 1
                else:
                    self.bytes_down += len(data)
            state["last"] = side
            await queue.put((time.monotonic() + self.delay, data))

    async def _write(self, queue: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.write_eof() if writer.can_write_eof() else None
                await asyncio.sleep(self.delay)
                return
            writer.write(data)
            await writer.drain()
