"""The kinds of failure the runtime acts on.

Kafka Connect's lesson: the code that decides *whether to retry* should not also decide *where a
failure is reported*. Connectors raise these; the processor's retry policy and the dead-letter
reporter act on the class, never on the message text.

- TransientError: the target may succeed later (timeouts before sending, connection refused, 5xx,
  429, session expiry). Retried with capped backoff for as long as it takes; the record holds its
  key meanwhile and, when too much is held, partitions pause.
- OutcomeUnknownError: a write was sent and no answer came back (a timeout after the request went
  out, a connection dropped mid-response, Intacct's 524). It is transient, but a blind re-send may
  create a second document: the sink that raised it must reconcile first (look the document up
  after a settle delay) and only re-send when the lookup still finds nothing.
- BudgetedError: failures that usually clear within minutes but not forever (a record lock, a
  schema fingerprint from a newer producer during a rolling upgrade). Retried until the named
  budget (seconds, from settings) has passed since the record's first failure, then dead-lettered.
- PermanentError: retrying cannot help (validation, unknown SKU, business-rule refusal). DLQ at once.
- anything else is "unknown": retried a bounded number of times, then dead-lettered.
"""
from __future__ import annotations


class SagebridgeError(Exception):
    """Base class; `reason` is a short, bounded, label-safe code (e.g. `unknown_sku`)."""

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason:
            self.reason = reason


class TransientError(SagebridgeError):
    reason = "transient"

    def __init__(self, message: str, *, reason: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class OutcomeUnknownError(TransientError):
    """The request was sent; whether the target applied it is not known."""

    reason = "outcome_unknown"


class BudgetedError(SagebridgeError):
    """Retried until `budget` (a name the retry policy maps to seconds) is spent, then DLQ."""

    reason = "budgeted"

    def __init__(self, message: str, *, budget: str, reason: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, reason=reason)
        self.budget = budget
        self.retry_after = retry_after


class PermanentError(SagebridgeError):
    reason = "permanent"


class StartRefused(PermanentError):
    """A connector found at start that the target contradicts the pair's configuration (Sage Pro:
    the live tables differ from the layout). The service stops with this message (exit code 2,
    as for an invalid pair file) instead of failing on every record."""

    reason = "start_refused"


def classify(exc: BaseException) -> str:
    """'outcome_unknown', 'transient', 'budgeted', 'permanent' or 'unknown' (a bounded label)."""
    if isinstance(exc, OutcomeUnknownError):
        return "outcome_unknown"
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, BudgetedError):
        return "budgeted"
    if isinstance(exc, PermanentError):
        return "permanent"
    return "unknown"
