import json
import logging

from sagebridge_common import signing
from sagebridge_common.log_json import JsonFormatter, scrub


def test_signature_verifies_only_the_exact_body():
    body = b'{"event":"order.created","order_id":7}'
    sig = signing.sign("s3cret", body)
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert signing.verify("s3cret", body, sig)
    assert not signing.verify("s3cret", body + b" ", sig)
    assert not signing.verify("other", body, sig)
    assert not signing.verify("s3cret", body, None)
    assert not signing.verify("", body, signing.sign("", body))   # an unset secret accepts nothing


def test_logs_are_json_without_secrets_or_card_numbers():
    rec = logging.LogRecord("t", logging.INFO, __file__, 1, "paid with 4111 1111 1111 1111", (), None)
    rec.sage300_password = "hunter2"
    rec.order_id = "42"
    line = json.loads(JsonFormatter("svc").format(rec))
    assert line["service"] == "svc" and line["order_id"] == "42"
    assert "4111" not in line["msg"]
    assert line["sage300_password"] == "[redacted]"
    assert scrub({"headers": {"Authorization": "Basic abc"}}) == {"headers": {"Authorization": "[redacted]"}}
