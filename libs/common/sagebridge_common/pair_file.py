"""Reading a pair file: YAML with `${VAR}` interpolation, and errors that name the key and the line.

A merchant edits these files by hand, so a mistake must stop the service with the key, the line
and what was expected, not a stack trace. Values may reference the environment (12-factor, as
docker compose does): `${NAME}` (must be set), `${NAME:-default}`. A name is looked up in the
environment first, then in `SAGEBRIDGE_SECRETS_DIR/<name in lower case>` (a mounted Kubernetes
Secret), so credentials never have to be written into the file.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

import yaml

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Loc = tuple[str | int, ...]


class PairFileError(ValueError):
    """A pair file that cannot be used; the message is meant for the person who edits the file."""


def lookup_variable(name: str) -> str | None:
    if name in os.environ:
        return os.environ[name]
    secrets = os.environ.get("SAGEBRIDGE_SECRETS_DIR")
    if secrets:
        f = Path(secrets) / name.lower()
        if f.is_file():
            return f.read_text().strip()
    return None


def _interpolate(text: str, where: str) -> str:
    def one(m: re.Match) -> str:
        value = lookup_variable(m.group(1))
        if value is None:
            if m.group(2) is None:
                raise PairFileError(f"{where}: variable {m.group(1)} is not set (write ${{{m.group(1)}:-default}} "
                                    "to allow a default)")
            return m.group(2)
        return value
    return _VAR.sub(one, text)


def _construct(node: yaml.Node, path: str, loc: Loc, lines: dict[Loc, int]) -> Any:
    """Plain data from a composed node, recording each key's line and refusing duplicate keys."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                raise PairFileError(f"{path}:{key_node.start_mark.line + 1}: key {_dotted(loc + (key,))} "
                                    "appears twice")
            out[key] = _construct(value_node, path, loc + (key,), lines)
            lines[loc + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(n, path, loc + (i,), lines) for i, n in enumerate(node.value)]
    scalar = yaml.safe_load(yaml.serialize(node)) if node.tag != "tag:yaml.org,2002:str" else node.value
    if isinstance(scalar, str) and "${" in scalar:
        text = _interpolate(scalar, f"{path}:{node.start_mark.line + 1}: {_dotted(loc)}")
        return text
    return scalar


def read_pair_file(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    """The file's data and the line of every key path in it."""
    try:
        text = path.read_text()
    except OSError as e:
        raise PairFileError(f"cannot read pair file {path}: {e}") from e
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        raise PairFileError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(node, yaml.MappingNode):
        raise PairFileError(f"{path}: a pair file is a YAML mapping (key: value lines)")
    lines: dict[Loc, int] = {}
    return _construct(node, str(path), (), lines), lines


def _dotted(loc: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def format_errors(path: Path, errors: list[dict], lines: dict[Loc, int], prefix: Loc = ()) -> str:
    """pydantic's errors as `file:line: key: what was expected` lines."""
    out = []
    for err in errors:
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), 0)
        what = "unknown key (not allowed here)" if err["type"] == "extra_forbidden" else err["msg"]
        got = err.get("input")
        secret = any(w in _dotted(loc).lower() for w in ("password", "token", "secret", "key"))
        shown = "" if err["type"] in ("extra_forbidden", "missing") or isinstance(got, (dict, list)) or secret \
            else f" (got {str(got)[:60]!r})"
        out.append(f"{path}:{line}: {_dotted(loc)}: {what}{shown}")
    return "\n".join(out)
