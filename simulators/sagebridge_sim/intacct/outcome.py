"""What a function handler returns: a `<key>` (legacy create_*) or a `<data>` element (3.0)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from lxml import etree

from .state import CompanyState
from .values import render
from .wire import nest


@dataclass
class Outcome:
    key: str | None = None
    data: etree._Element | None = None
    write: bool = False           # the function changed data (commit_then_524 applies to writes)


def objects_data(state: CompanyState, obj: str, row: dict[str, Any], fields: Sequence[str]) -> etree._Element:
    """3.0 create/update result: `<data listtype="objects" count="1"><customer><RECORDNO/>..` (intacct.md §2)."""
    data = etree.Element("data", listtype="objects", count="1")
    nest(data, obj.lower(), {f: render(row.get(f), state.clock) for f in fields}, fields)
    return data
