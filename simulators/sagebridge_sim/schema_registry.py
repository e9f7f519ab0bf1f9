"""A minimal Confluent Schema Registry for tests and the dev stack.

Just enough of the REST API for the Confluent wire format: register under a subject (the same
schema always gets the same global id), fetch by id, list subjects and versions. Request counts
per route are kept so tests can prove a client caches ids; faults can be injected via `/_sim/faults`
like every other simulator.
"""
from __future__ import annotations

import json
import threading
from collections import Counter

import fastavro
from fastapi import Body, FastAPI
from fastapi.responses import JSONResponse

from .faults import FaultInjector, FaultMiddleware, install_admin_routes

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryState:
    """Schemas by id, subject versions, and hit counters (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.schemas: list[str] = []                 # id - 1 -> schema JSON text
        self.ids_by_schema: dict[str, int] = {}      # normalised schema text -> id
        self.subjects: dict[str, list[int]] = {}     # subject -> ids, version order
        self.hits: Counter[str] = Counter()

    def register(self, subject: str, schema_json: str) -> int:
        key = json.dumps(json.loads(schema_json), sort_keys=True, separators=(",", ":"))
        with self.lock:
            schema_id = self.ids_by_schema.get(key)
            if schema_id is None:
                self.schemas.append(schema_json)
                schema_id = self.ids_by_schema[key] = len(self.schemas)
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id

    def get(self, schema_id: int) -> str | None:
        with self.lock:
            return self.schemas[schema_id - 1] if 0 < schema_id <= len(self.schemas) else None


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "message": message}, status_code=status, media_type=MEDIA_TYPE)


def _ok(body) -> JSONResponse:
    return JSONResponse(body, media_type=MEDIA_TYPE)


def _valid_avro(schema_json: str) -> bool:
    try:
        fastavro.parse_schema(json.loads(schema_json))
        return True
    except Exception:  # any parse failure means "invalid schema" to the client
        return False


def create_app(state: RegistryState | None = None, injector: FaultInjector | None = None) -> FastAPI:
    """The registry app; `app.state.registry` and `app.state.faults` are there for tests."""
    state = state or RegistryState()
    injector = injector or FaultInjector()
    app = FastAPI(title="schema-registry-sim")
    app.state.registry = state
    app.state.faults = injector
    install_admin_routes(app, injector)

    @app.post("/subjects/{subject}/versions")
    def register(subject: str, body: dict = Body(...)):
        state.hits["register"] += 1
        schema_json = body.get("schema")
        if not isinstance(schema_json, str) or not _valid_avro(schema_json):
            return _error(422, 42201, "Invalid schema")
        return _ok({"id": state.register(subject, schema_json)})

    @app.get("/schemas/ids/{schema_id}")
    def get_schema(schema_id: int):
        state.hits["get_schema"] += 1
        schema_json = state.get(schema_id)
        if schema_json is None:
            return _error(404, 40403, "Schema not found")
        return _ok({"schema": schema_json})

    @app.get("/subjects")
    def subjects():
        state.hits["subjects"] += 1
        with state.lock:
            return _ok(sorted(state.subjects))

    @app.get("/subjects/{subject}/versions")
    def versions(subject: str):
        with state.lock:
            ids = state.subjects.get(subject)
        if ids is None:
            return _error(404, 40401, "Subject not found")
        return _ok(list(range(1, len(ids) + 1)))

    @app.get("/_sim/stats")
    def stats():
        return dict(state.hits)

    app.add_middleware(FaultMiddleware, injector=injector,
                       error_body=lambda status: {"error_code": status * 100, "message": f"simulated {status}"})
    return app
