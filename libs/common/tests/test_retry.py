from sagebridge_common.errors import PermanentError, TransientError
from sagebridge_common.retry import RetryPolicy


def test_classification_decides_whether_to_retry():
    p = RetryPolicy(unknown_max_attempts=3)
    assert p.should_retry(TransientError("503"), 1000)
    assert not p.should_retry(PermanentError("bad sku"), 1)
    assert p.should_retry(ValueError("?"), 2)
    assert not p.should_retry(ValueError("?"), 3)


def test_backoff_is_capped_and_jittered():
    p = RetryPolicy(initial_s=0.1, max_s=2.0)
    delays = [p.delay(TransientError("x"), 20) for _ in range(50)]
    assert all(0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 10          # jitter spreads retries out


def test_retry_after_wins_when_longer_but_stays_capped():
    p = RetryPolicy(initial_s=0.01, max_s=5.0)
    assert p.delay(TransientError("429", retry_after=3), 1) == 3
    assert p.delay(TransientError("429", retry_after=60), 1) == 5.0
