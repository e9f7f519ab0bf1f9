"""Exactly once for a write whose document carries a reference the hub chose (intacct.md §3, §5).

The function goes with uniqueid=true and a stable control id. A refusal of a repeat
(DuplicateControlError) or a lost answer (OutcomeUnknownError: HTTP 524, a dropped connection) is
resolved by looking the document up by its reference: found -> already_present; a refusal with
nothing found -> PermanentError (something else holds the control id); a lost answer with nothing
found -> TransientError (the next attempt resends the same control id, which is harmless).
"""
from __future__ import annotations

from typing import Callable

from lxml import etree

from sagebridge_common.contracts import WriteOutcome
from sagebridge_common.errors import OutcomeUnknownError, PermanentError, TransientError

from .envelope import FunctionResult
from .errors import DuplicateControlError
from .gateway import IntacctGateway


def ensure_once(gateway: IntacctGateway, function: etree._Element, *, controlid: str, purpose: str,
                lookup: Callable[[], str | None], document_id: Callable[[FunctionResult], str],
                what: str) -> WriteOutcome:
    try:
        result = gateway.execute(function, controlid=controlid, write=True, purpose=purpose)
    except DuplicateControlError as e:
        found = lookup()
        if found is None:
            raise PermanentError(f"{e}; yet no {what} is found", reason="intacct_duplicate_without_document") from None
        return WriteOutcome("already_present", found)
    except OutcomeUnknownError as e:
        found = lookup()
        if found is not None:
            return WriteOutcome("already_present", found)
        raise TransientError(f"{e}; no {what} yet: the next attempt resends control id {controlid}",
                             reason="intacct_outcome_unknown_absent") from None
    return WriteOutcome("created", document_id(result))
