"""The ops endpoints every service serves: `/metrics`, `/healthz` (liveness), `/readyz` (readiness).

They are kept apart as in Redpanda Connect: liveness asks "is this process making progress?" (a
restart would help), readiness asks "can it do useful work right now?" (broker and targets
reachable; a restart would not help, so Kubernetes only stops routing to it).
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

Check = Callable[[], tuple[bool, str]]


@dataclass
class HealthRegistry:
    liveness: dict[str, Check] = field(default_factory=dict)
    readiness: dict[str, Check] = field(default_factory=dict)

    @staticmethod
    def _run(checks: dict[str, Check]) -> tuple[bool, dict[str, dict]]:
        report, ok_all = {}, True
        for name, check in checks.items():
            try:
                ok, detail = check()
            except Exception as e:  # a crashing check is a failing check
                ok, detail = False, f"{type(e).__name__}: {e}"
            report[name] = {"ok": ok, "detail": detail}
            ok_all &= ok
        return ok_all, report

    def live(self) -> tuple[bool, dict]:
        return self._run(self.liveness)

    def ready(self) -> tuple[bool, dict]:
        return self._run(self.readiness)


class OpsServer:
    def __init__(self, health: HealthRegistry, host: str, port: int) -> None:
        self.health = health
        handler = self._handler_class()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="ops-http", daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def _handler_class(self):
        health = self.health

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # access logs are noise here
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    return self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
                if path in ("/healthz", "/readyz"):
                    ok, report = health.live() if path == "/healthz" else health.ready()
                    body = json.dumps({"status": "ok" if ok else "fail", "checks": report}).encode()
                    return self._send(200 if ok else 503, body, "application/json")
                self._send(404, b'{"error":"not found"}', "application/json")

        return Handler

    def start(self) -> "OpsServer":
        self.thread.start()
        log.info("ops server listening", extra={"port": self.port})
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
