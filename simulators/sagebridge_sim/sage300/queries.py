"""OData reads (GET feed and GET one entry) and the shared "201 Created" answer of every POST.

Documented behaviour mirrored (SDK Developer Reference §4-11): feed `{"odata.context", "odata.count"
(a string), "value"}`, a server page size (100 by default, Web.config `PageSize`) with
`odata.nextLink`, `$skip`, `$top`, `$count=true` / `$inlinecount=allpages`, `$filter` (odata.py);
`$select` is not in Sage's reference but third-party clients use it, so it is accepted.
Keys: `Resource('KEY')`, `Resource(123)` or `Resource(Prop = value)`.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from . import odata
from .conversions import IntConv
from .db import RowError
from .http_errors import SageError, SageJSON
from .resources import Resource

if TYPE_CHECKING:
    from .state import SimState

API_ROOT = "/Sage300WebApi/v1.0/-"

KEYED = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>.*)\))?$", re.S)


def parse_key(resource: Resource, text: str) -> Any:
    """`123`, `'ID'` or `Prop=value` -> key value typed like the key property; a composite key
    `A = 'CA', B = 65` (the Developer Reference's ARReceiptAndAdjustmentBatches example) -> a tuple."""
    if "," in resource.key:
        return _composite_key(resource, text)
    match = re.match(r"^\s*(?:(\w+)\s*=\s*)?(.*?)\s*$", text, re.S)
    name, literal = match[1], match[2]
    if name is not None and name != resource.key:
        raise SageError(400, "InvalidEntityKey", f"{name} is not the key of {resource.name}.")
    try:
        tokens = odata.tokenize(literal)
    except odata.ODataError:
        tokens = []
    if len(tokens) != 1 or tokens[0][0] != "lit":
        raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
    value = tokens[0][1]
    numeric_key = isinstance(resource.key_prop.conv, IntConv)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if not (is_int if numeric_key else isinstance(value, str)):
        raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
    return value


_KEY_TERM = re.compile(r"\s*(\w+)\s*=\s*('(?:[^']|'')*'|-?\d+)\s*(?:,|$)")


def _composite_key(resource: Resource, text: str) -> tuple:
    values, pos = {}, 0
    while pos < len(text):
        match = _KEY_TERM.match(text, pos)
        if not match or match.end() == pos:
            raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
        values[match[1]] = odata.tokenize(match[2])[0][1]
        pos = match.end()
    names = [p.api for p in resource.key_props]
    if sorted(values) != sorted(names):
        raise SageError(400, "InvalidEntityKey", f"The key of {resource.name} is ({', '.join(names)}).")
    for prop in resource.key_props:
        numeric = isinstance(prop.conv, IntConv)
        if isinstance(values[prop.api], int) != numeric:
            raise SageError(400, "InvalidEntityKey", f"Invalid key ({text}) for {resource.name}.")
    return tuple(values[name] for name in names)


def context_url(request: Request, sim: SimState, module: str, suffix: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{API_ROOT}/{sim.company}/{module}/$metadata#{suffix}"


def _int_option(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    value = params[name]
    if not value.isdigit():
        raise SageError(400, "InvalidParameters", f"{name} must be a non-negative integer.")
    return int(value)


def _want_count(params: dict[str, str]) -> bool:
    count = params.get("$count", "false").lower()
    inline = params.get("$inlinecount", "none").lower()
    if count not in ("true", "false") or inline not in ("allpages", "none"):
        raise SageError(400, "InvalidParameters", "$count must be true/false, $inlinecount allpages/none.")
    return count == "true" or inline == "allpages"


KNOWN_OPTIONS = {"$filter", "$top", "$skip", "$count", "$inlinecount", "$select", "$format"}


def _select(params: dict[str, str], resource: Resource) -> list[str] | None:
    if "$select" not in params:
        return None
    allowed = set(resource.filter_props) | set(resource.expansions)
    names = [n.strip() for n in params["$select"].split(",") if n.strip()]
    for name in names:
        if name not in allowed:
            raise SageError(400, "InvalidParameters", f"Unknown property {name} in $select.")
    return names


def _project(entry: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    return entry if names is None else {k: v for k, v in entry.items() if k in names}


def get_feed(sim: SimState, request: Request, resource: Resource) -> Response:
    """GET Resource: $filter, then $skip/$top, server paging at page_size with odata.nextLink."""
    params = dict(request.query_params)
    for name in params:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise SageError(400, "InvalidParameters", f"Query option {name} is not supported.")
    skip, top = _int_option(params, "$skip") or 0, _int_option(params, "$top")
    want_count, select = _want_count(params), _select(params, resource)
    entries = _filtered(sim, resource, params.get("$filter"))
    limit = sim.page_size if top is None else min(top, sim.page_size)
    page = entries[skip:skip + limit]
    body: dict[str, Any] = {"odata.context": context_url(request, sim, resource.module, resource.name)}
    if want_count:
        body["odata.count"] = str(len(entries))
    body["value"] = [_project(e, select) for e in resource.expand(sim.db, page)]
    remaining = len(entries) - skip - len(page)
    if top is not None:
        remaining = min(remaining, top - len(page))
    if remaining > 0 and page:
        changes: dict[str, Any] = {"$skip": skip + len(page)}
        if top is not None:
            changes["$top"] = top - len(page)
        body["odata.nextLink"] = str(request.url.include_query_params(**changes))
    return SageJSON(body)


def _filtered(sim: SimState, resource: Resource, text: str | None) -> list[dict[str, Any]]:
    if text is None:
        return resource.load(sim.db, None)
    try:
        node = odata.parse_filter(text, resource.filter_props)
        where = resource.sql_prefilter(odata.equality_terms(node))
        where |= {c: v for c, v in resource.trimmed_prefilter(odata.text_alternatives(node)).items() if c not in where}
        try:
            candidates = resource.load(sim.db, where or None)
        except RowError:  # a literal longer than its column can match nothing
            return []
        return [e for e in candidates if odata.evaluate(node, e) is True]
    except odata.ODataError as e:
        raise SageError(400, "InvalidParameters", f"Invalid $filter: {e}") from None


def get_one(sim: SimState, request: Request, resource: Resource, key_text: str) -> Response:
    key = parse_key(resource, key_text)
    entry = load_by_key(sim, resource, key)
    if entry is None:
        raise SageError(404, "RecordNotFound", f"{resource.name}({key_text}) was not found.")
    context = context_url(request, sim, resource.module, f"{resource.name}/$entity")
    return SageJSON({"odata.context": context, **entry})


def load_by_key(sim: SimState, resource: Resource, key: Any) -> dict[str, Any] | None:
    values = key if isinstance(key, tuple) else (key,)
    try:
        found = resource.load(sim.db, {p.col: v for p, v in zip(resource.key_props, values)})
    except RowError:
        return None
    return resource.expand(sim.db, found)[0] if found else None


def created(sim: SimState, request: Request, resource: Resource, key: Any, key_text: str) -> Response:
    entry = load_by_key(sim, resource, key)
    base = f"{str(request.base_url).rstrip('/')}{API_ROOT}/{sim.company}/{resource.module}"
    location = f"{base}/{resource.name}({key_text})"
    context = context_url(request, sim, resource.module, f"{resource.name}/$entity")
    return SageJSON({"odata.context": context, **entry}, status_code=201, headers={"Location": location})
