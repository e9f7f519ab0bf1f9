import json
import logging

from sagebridge_common import signing
from sagebridge_common.log_json import JsonFormatter, scrub

NOW = 1_764_547_200


def test_signature_covers_the_timestamp_and_the_exact_body():
    body = b'{"event":"order.created","order_id":7}'
    sig = signing.sign("s3cret", NOW, body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert signing.verify("s3cret", str(NOW), body, sig, NOW, 300)
    assert not signing.verify("s3cret", str(NOW), body + b" ", sig, NOW, 300)
    assert not signing.verify("s3cret", str(NOW + 1), body, sig, NOW, 300)     # timestamp is signed
    assert not signing.verify("other", str(NOW), body, sig, NOW, 300)
    assert not signing.verify("s3cret", str(NOW), body, None, NOW, 300)
    assert not signing.verify("", str(NOW), body, signing.sign("", NOW, body), NOW, 300)   # unset secret: nothing
    assert sig != signing.sign("s3cret", NOW + 1, body)


def test_timestamp_must_be_an_integer_within_the_tolerance():
    body = b"{}"
    sig = signing.sign("k", NOW, body)
    assert signing.verify("k", str(NOW), body, sig, NOW + 300, 300)
    assert signing.verify("k", str(NOW), body, sig, NOW - 300, 300)
    assert not signing.verify("k", str(NOW), body, sig, NOW + 301, 300)
    assert not signing.verify("k", str(NOW), body, sig, NOW - 301, 300)
    for bad in (None, "", "1764547200.0", "-1764547200", "0x6930", "١٧٦٤٥٤٧٢٠٠", "9" * 30):
        assert signing.refusal("k", bad, body, sig, NOW, 300) is not None, bad
    assert "tolerance" in signing.refusal("k", str(NOW), body, sig, NOW + 301, 300)


def test_logs_are_json_without_secrets_or_card_numbers():
    rec = logging.LogRecord("t", logging.INFO, __file__, 1, "paid with 4111 1111 1111 1111", (), None)
    rec.sage300_password = "hunter2"
    rec.order_id = "42"
    line = json.loads(JsonFormatter("svc").format(rec))
    assert line["service"] == "svc" and line["order_id"] == "42"
    assert "4111" not in line["msg"]
    assert line["sage300_password"] == "[redacted]"
    assert scrub({"headers": {"Authorization": "Basic abc"}}) == {"headers": {"Authorization": "[redacted]"}}


def test_tracebacks_are_inside_the_json_line_and_scrubbed():
    try:
        raise ValueError("card 4111 1111 1111 1111 declined")
    except ValueError:
        import sys
        rec = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter("svc").format(rec)
    assert "\n" not in text
    line = json.loads(text)
    assert "Traceback" in line["exc"] and "ValueError" in line["exc"] and "4111" not in line["exc"]


def test_only_luhn_valid_digit_runs_are_masked_as_cards():
    assert scrub("pan 5500 0000 0000 0004 and 378282246310005") == "pan [card-redacted] and [card-redacted]"
    assert scrub("version 20261201120500-bb") == "version 20261201120500-bb"      # fails the Luhn check
