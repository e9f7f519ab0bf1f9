"""readByQuery / readMore (intacct.md §4 "Reading changes", §2 data attributes; contract §1).

- `fields`: `*` (every readable field) or a comma list; an unknown name -> failure with errorno
  `Invalid fields list <name>` (that errorno text is seen in the wild, intacct.md §2).
- `query`: see query.py; unparsable -> errorno `Query Failed`.
- `pagesize` 1..1000, default 100 (intacct.md §4); outside -> failure.
- `docparid` narrows SODOCUMENT to one transaction definition.
- The resultId is a SNAPSHOT taken at readByQuery time (the rows, already rendered): readMore pages
  through those rows however the data changes meanwhile; `numremaining="0"` on the last page, after
  which the resultId is forgotten (its lifetime is not confirmed, intacct.md §6).
- Rows come in RECORDNO order.
"""
from __future__ import annotations

from lxml import etree

from .objects import SCHEMAS
from .outcome import Outcome
from .query import QueryError, compile_query
from .state import CompanyState, Snapshot
from .values import render
from .wire import check_order, function_failure, nest, schema_error, text

RBQ_ORDER = [("object", False), ("fields", False), ("query", False), ("pagesize", True), ("returnFormat", True),
             ("docparid", True)]
MAX_PAGESIZE = 1000


def read_by_query(state: CompanyState, fn: etree._Element) -> Outcome:
    parts = check_order(fn, RBQ_ORDER, "readByQuery")
    obj = text(parts["object"]).upper()
    schema = SCHEMAS.get(obj)
    if schema is None:
        raise function_failure(("DL02000001", "Object definition not found", f"There is no object {obj}.",
                                "Use a valid object name."))
    fmt = text(parts.get("returnFormat")) or "xml"
    if fmt != "xml":
        raise function_failure(("DL02000001", "Invalid returnFormat", f"returnFormat {fmt} is not served by the "
                                "simulator.", "Use xml."))
    raw_fields = text(parts["fields"]) or "*"
    if raw_fields == "*":
        fields = list(schema.fields)
    else:
        fields = []
        for name in (f.strip() for f in raw_fields.split(",")):
            expanded = schema.expand(name)
            if expanded is None:
                raise function_failure((f"Invalid fields list {name}", "", "", ""))
            fields += [f for f in expanded if f not in fields]
    size_text = text(parts.get("pagesize")) or "100"
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGESIZE:
        raise function_failure(("DL02000001", "Invalid pagesize", f"pagesize must be 1..{MAX_PAGESIZE}, not "
                                f"{size_text}.", "Use a page size between 1 and 1000."))
    try:
        predicate = compile_query(text(parts["query"]), schema, state.clock)
    except QueryError as e:
        raise function_failure(("Query Failed", "Query Failed", str(e), "Check the query syntax and field names."))
    docparid = text(parts.get("docparid"))
    rows = [r for _, r in sorted(state.records[obj].items())
            if (not docparid or obj != "SODOCUMENT" or r.get("DOCPARID") == docparid) and predicate(r)]
    snap = Snapshot(obj, [{f: render(r.get(f), state.clock) for f in fields} for r in rows], fields, 0,
                    int(size_text))
    result_id = state.new_result(snap)
    return Outcome(data=_page(state, result_id, snap))


def read_more(state: CompanyState, fn: etree._Element) -> Outcome:
    parts = check_order(fn, [("object", True), ("resultId", True)], "readMore")
    result_id = text(parts.get("resultId"))
    if not result_id:
        raise schema_error("readMore needs a resultId (readMore by object is not served by the simulator).")
    snap = state.results.get(result_id)
    if snap is None:
        raise function_failure(("DL02000001", "Invalid resultId", f"There is no pending result {result_id}.",
                                "Run readByQuery again."))
    return Outcome(data=_page(state, result_id, snap))


def _page(state: CompanyState, result_id: str, snap: Snapshot) -> etree._Element:
    page = snap.rows[snap.offset:snap.offset + snap.pagesize]
    snap.offset += len(page)
    remaining = len(snap.rows) - snap.offset
    if remaining == 0:
        state.results.pop(result_id, None)
    data = etree.Element("data", listtype=snap.object.lower(), count=str(len(page)), totalcount=str(len(snap.rows)),
                         numremaining=str(remaining), resultId=result_id)
    for row in page:
        nest(data, snap.object.lower(), row, snap.fields)
    return data
