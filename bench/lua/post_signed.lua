-- wrk script for bench/webhook_ingest.py: POSTs one fixed, pre-signed body on every request.
-- The body, its timestamp and its signature come from the environment (the benchmark computes the
-- HMAC of "<timestamp>.<body>" with sagebridge_common.signing.sign before each run, so the script
-- needs no crypto; a run must stay shorter than ingest's WEBHOOK_TIMESTAMP_TOLERANCE_S).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Sagebridge-Timestamp"] = os.getenv("BENCH_TIMESTAMP")
wrk.headers["X-Sagebridge-Signature"] = os.getenv("BENCH_SIGNATURE")

-- One machine-readable line at the end; latencies are in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"lat_mean_us":%.1f,"lat_p50_us":%d,' ..
    '"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
