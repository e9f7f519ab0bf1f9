"""The baseline for bench/webhook_ingest.py: a bare FastAPI endpoint on the same path as ingest's
webhook that only answers 202 (no body read, no signature check, no Kafka). Run with uvicorn, one
worker, the same server flags as ingest's embedded server (log level warning, no access log).

`BENCH_BARE_OTEL_SDK=1` installs an OpenTelemetry SDK TracerProvider without exporters, as
`sagebridge_common.tracing.setup_tracing` does in every service. FastAPI >= 0.16x then turns on
its native request telemetry; the diagnostic run uses this to show what that costs on its own."""
import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse

if os.environ.get("BENCH_BARE_OTEL_SDK") == "1":
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    trace.set_tracer_provider(TracerProvider())

app = FastAPI(title="bare 202", docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/webhooks/xcart/{pair}")
async def accept(pair: str):
    return JSONResponse({"accepted": True}, status_code=202)
