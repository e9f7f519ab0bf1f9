"""AR and GL writes: 3.0 create ARPYMT / GLBATCH, legacy create_aradjustment (step 2, in progress)."""
from __future__ import annotations

from lxml import etree

from .outcome import Outcome
from .state import CompanyState
from .wire import function_failure


def _todo(name: str):
    return function_failure(("DL02000001", f"{name} not available", f"{name} is not served yet.", ""))


def create_arpymt(state: CompanyState, obj: etree._Element) -> Outcome:
    raise _todo("ARPYMT")


def create_glbatch(state: CompanyState, obj: etree._Element) -> Outcome:
    raise _todo("GLBATCH")


def create_aradjustment(state: CompanyState, fn: etree._Element) -> Outcome:
    raise _todo("create_aradjustment")
