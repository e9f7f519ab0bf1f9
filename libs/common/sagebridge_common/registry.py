"""Which connector implements which role for which external system, picked from the pair file.

A connector package (`sagebridge_connectors.<kind>`, e.g. `xcart`, `sage300`) registers, when it
is imported, the model of its own block in the pair file and a factory per role it implements.
Services ask for a role and a pair; they never build a concrete client by hand, so a new connector
slots in without touching services or the runtime (OCA's "units registered per backend").
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable, Literal

from pydantic import BaseModel

Side = Literal["storefront", "erp"]
Role = Literal["storefront_source", "storefront_sink", "erp_sink", "erp_source", "storefront_ledger", "erp_ledger"]
_SIDE_OF: dict[str, Side] = {"storefront_source": "storefront", "storefront_sink": "storefront",
                             "erp_sink": "erp", "erp_source": "erp",
                             "storefront_ledger": "storefront", "erp_ledger": "erp"}   # ledgers: reconcile
PACKAGE = "sagebridge_connectors"

_models: dict[tuple[Side, str], type[BaseModel]] = {}
_factories: dict[tuple[Role, str], Callable[..., Any]] = {}


class UnknownConnector(LookupError):
    pass


def register_config(side: Side, kind: str, model: type[BaseModel]) -> None:
    """The pydantic model (extra keys forbidden) of a `storefront:` or `erp:` block of this kind."""
    _models[(side, kind)] = model


def register(role: Role, kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator for `factory(pair: PairConfig) -> connector` implementing `role` for `kind`."""
    def decorate(factory: Callable[..., Any]) -> Callable[..., Any]:
        _factories[(role, kind)] = factory
        return factory
    return decorate


def known_kinds() -> list[str]:
    try:
        pkg = importlib.import_module(PACKAGE)
    except ModuleNotFoundError:
        return []
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.ispkg)


def _load(kind: str) -> None:
    if not kind.isidentifier() or kind not in known_kinds():
        raise UnknownConnector(f"unknown connector kind {kind!r} (known: {', '.join(known_kinds()) or 'none'})")
    importlib.import_module(f"{PACKAGE}.{kind}")


def config_model(side: Side, kind: str) -> type[BaseModel]:
    if (side, kind) not in _models:
        _load(kind)
    try:
        return _models[(side, kind)]
    except KeyError:
        raise UnknownConnector(f"{kind!r} is not a {side} connector") from None


def build(role: Role, pair) -> Any:
    """The connector for `role` in `pair` (a validated PairConfig)."""
    kind = getattr(pair, _SIDE_OF[role]).kind
    if (role, kind) not in _factories:
        _load(kind)
    try:
        factory = _factories[(role, kind)]
    except KeyError:
        raise UnknownConnector(f"connector {kind!r} does not implement {role}") from None
    return factory(pair)
