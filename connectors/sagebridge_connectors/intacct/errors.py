"""Intacct's error answers as the hub's error vocabulary (intacct.md §2, §5).

Every `<error>` keeps its four texts (errorno, description, description2, correction): the
correction is often the only hint an operator needs, so all of them go into the exception message
that the DLQ shows. `errorno` is not always a code ("Query Failed", "Invalid fields list X",
intacct.md §2): only a code-shaped one becomes part of the `reason` label (bounded cardinality).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sagebridge_common.errors import PermanentError

CONNECTOR = "intacct"
SESSION_INVALID = "XL03000006"       # bad login, unauthorised sender, invalid or expired session (§3)
RATE_LIMITED = "GW-0010"             # concurrency / rate limit, HTTP 429 (§5)
OFFLINE_TEXT = "temporarily off-line"
_CODE = re.compile(r"^[A-Z0-9-]{3,20}$")


@dataclass(frozen=True)
class IntacctErrorItem:
    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""

    def text(self) -> str:
        parts = [p for p in (self.description, self.description2) if p]
        shown = f"{self.errorno}: {'; '.join(parts) or '(no description)'}"
        return f"{shown}; correction: {self.correction}" if self.correction else shown

    def mentions(self, needle: str) -> bool:
        return needle.lower() in f"{self.description} {self.description2}".lower()


def describe(errors: list[IntacctErrorItem]) -> str:
    return " | ".join(e.text() for e in errors) or "no error details"


def reason_for(errors: list[IntacctErrorItem]) -> str:
    first = errors[0].errorno.strip() if errors else ""
    return f"intacct_{first}" if _CODE.match(first) else "intacct_error"


class IntacctFunctionError(PermanentError):
    """A function's result (or the whole request) failed: `errors` as Intacct listed them."""

    def __init__(self, message: str, errors: list[IntacctErrorItem], *, function: str = "",
                 controlid: str = "") -> None:
        super().__init__(f"{message}: {describe(errors)}", reason=reason_for(errors))
        self.errors = errors
        self.function = function
        self.controlid = controlid

    def has(self, errorno: str) -> bool:
        return any(e.errorno == errorno for e in self.errors)


class DuplicateControlError(IntacctFunctionError):
    """uniqueid=true refused a function control id that already completed (intacct.md §6: not
    documented by Sage; recognised by erp.duplicate_control_errors / duplicate_control_message).
    Nothing was written again: the caller looks the document up."""
