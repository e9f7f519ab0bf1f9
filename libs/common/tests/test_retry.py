import threading

from sagebridge_common.errors import BudgetedError, OutcomeUnknownError, PermanentError, TransientError
from sagebridge_common.retry import RetryPolicy, interruptible_sleep
from sagebridge_common.settings import Settings


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


def test_budgeted_errors_retry_until_their_budget_is_spent_whatever_the_attempt_count():
    p = RetryPolicy(unknown_max_attempts=3, budgets={"record_lock": 600.0, "unknown_schema": 900.0})
    lock = BudgetedError("Sage 300 General: record locked", budget="record_lock")
    assert p.should_retry(lock, attempt=50, elapsed_s=599.9)
    assert not p.should_retry(lock, attempt=2, elapsed_s=600.0)
    schema = BudgetedError("unknown fingerprint", budget="unknown_schema")
    assert p.should_retry(schema, attempt=50, elapsed_s=899.0)
    assert not p.should_retry(schema, attempt=50, elapsed_s=900.0)


def test_a_budget_nobody_configured_falls_back_to_bounded_attempts():
    p = RetryPolicy(unknown_max_attempts=3, budgets={"record_lock": 600.0})
    exc = BudgetedError("?", budget="no_such_budget")
    assert p.should_retry(exc, attempt=2, elapsed_s=0.0)
    assert not p.should_retry(exc, attempt=3, elapsed_s=0.0)


def test_transient_and_outcome_unknown_retry_forever_and_unknown_errors_stay_bounded():
    p = RetryPolicy(unknown_max_attempts=3, budgets={"record_lock": 1.0})
    assert p.should_retry(OutcomeUnknownError("sent, no answer"), 10_000, elapsed_s=1e6)
    assert p.should_retry(TransientError("503"), 10_000, elapsed_s=1e6)
    assert not p.should_retry(RuntimeError("?"), 3, elapsed_s=0.0)


def test_budgets_come_from_settings():
    p = RetryPolicy.from_settings(Settings(record_lock_retry_budget_s=12.5, unknown_schema_retry_budget_s=7.0))
    assert p.budgets == {"record_lock": 12.5, "unknown_schema": 7.0}
    defaults = RetryPolicy.from_settings(Settings())
    assert defaults.budgets == {"record_lock": 600.0, "unknown_schema": 900.0}


def test_budgeted_retry_after_is_honoured():
    p = RetryPolicy(initial_s=0.01, max_s=5.0)
    assert p.delay(BudgetedError("locked", budget="record_lock", retry_after=2), 1) == 2


def test_sleep_wakes_on_any_of_its_events():
    revoked, stop = threading.Event(), threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert interruptible_sleep(30, revoked, stop) is False        # the second event also ends it
    assert stop.is_set()
    revoked2 = threading.Event()
    threading.Timer(0.05, revoked2.set).start()
    assert interruptible_sleep(30, revoked2, threading.Event()) is False
    assert interruptible_sleep(0.01, threading.Event(), threading.Event()) is True
