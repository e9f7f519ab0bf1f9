from sagebridge_sim.faults import FaultInjector


def test_method_scope_covers_latency_and_errors():
    f = FaultInjector()
    f.configure(latency_ms=100, methods=["POST"], error_status=503, error_count=1)
    assert f.decide("GET") == (0.0, None, {})
    delay, status, headers = f.decide("POST")
    assert (delay, status) == (0.1, 503) and headers["Retry-After"] == "1"
    assert f.decide("POST")[:2] == (0.1, None)


def test_outage_window_then_recovery():
    f = FaultInjector()
    f.configure(outage_seconds=0.05, outage_status=503)
    assert f.decide("GET")[1] == 503
    import time
    time.sleep(0.06)
    assert f.decide("GET")[1] is None
    assert f.snapshot()["injected"] == 1
