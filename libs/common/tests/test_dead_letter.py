from sagebridge_common.dead_letter import (ERROR_PREFIX, REPLAY_COUNT_HEADER, FailureContext, dead_letter_headers,
                                           header_dict, replay_count)
from sagebridge_common.errors import PermanentError

CTX = FailureContext(topic="commerce.orders.v1", partition=2, offset=41, group="g", service="erp-writer",
                     stage="erp-write", attempts=1, first_failure_ms=1700000000000)


def _fail():
    try:
        raise PermanentError("item NOPE does not exist", reason="sage300_RecordInvalid")
    except PermanentError as e:
        return e


def test_original_headers_kept_and_error_context_added():
    original = [("traceparent", b"00-abc-def-01"), ("x", None)]
    headers = dead_letter_headers(original, CTX, _fail(), "sage300_RecordInvalid")
    assert headers[:2] == original
    h = header_dict(headers)
    assert h[ERROR_PREFIX + "topic"] == "commerce.orders.v1"
    assert h[ERROR_PREFIX + "partition"] == "2" and h[ERROR_PREFIX + "offset"] == "41"
    assert h[ERROR_PREFIX + "reason"] == "sage300_RecordInvalid"
    assert h[ERROR_PREFIX + "exception.class"].endswith("PermanentError")
    assert "NOPE" in h[ERROR_PREFIX + "exception.message"]
    assert "Traceback" in h[ERROR_PREFIX + "exception.stacktrace"]
    assert h[REPLAY_COUNT_HEADER] == "0"


def test_second_failure_replaces_stale_error_headers_and_keeps_replay_count():
    first = dead_letter_headers([], CTX, _fail(), "a")
    replayed = [(k, v) for k, v in first if k != REPLAY_COUNT_HEADER] + [(REPLAY_COUNT_HEADER, b"2")]
    second = dead_letter_headers(replayed, CTX, _fail(), "b")
    reasons = [v for k, v in second if k == ERROR_PREFIX + "reason"]
    assert reasons == [b"b"]
    assert replay_count(second) == 2
