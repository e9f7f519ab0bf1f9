"""Builds erp.raw.v1 records as Sage Pro change capture writes them (issue 10 contract, wire format:
logical fields, sort_keys JSON, key = the layout key's values joined by "|", position = read time
in UTC microseconds + "|" + key) and runs them through transform's whole handler with fresh keyed
state: the shared fixture of the test_sagepro_* modules."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RAW, STOREFRONT_RAW, TRANSFORM_ERP_CHANGELOG, TRANSFORM_VERSIONS_CHANGELOG
from sagebridge_connectors.sagepro.layout import CAPTURE_TABLES, ENTITY_FIELD, load_layout
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.handler import make_handler
from sagebridge_transform.main import load_served_pairs

PAIRS = load_served_pairs(TransformSettings(pairs_path=str(Path(__file__).resolve().parents[3] / "pairs")))
PAIR_ID = "xcart-sagepro"
T0 = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)
LOGICAL = {raw: logical for logical, raw in CAPTURE_TABLES.items()}      # ICILOC -> item_location
LAYOUT = load_layout()


def pairs_with(erp: dict[str, Any] | None = None, **mapping: Any) -> dict[str, PairConfig]:
    """The shipped pair with some `mapping:` blocks (and `erp:` keys) replaced."""
    pair = PAIRS[PAIR_ID]
    update: dict[str, Any] = {"mapping": MappingTables.model_validate({**pair.mapping.model_dump(), **mapping})}
    if erp:
        update["erp"] = pair.erp.model_copy(update=erp)
    return {PAIR_ID: pair.model_copy(update=update)}


def at(second: int) -> datetime:
    return T0 + timedelta(seconds=second)


def position(second: int, key: str) -> str:
    micros = int(at(second).timestamp()) * 1_000_000
    return f"{micros:016d}|{key}"


def row_key(table: str, fields: dict[str, Any]) -> str:
    return "|".join(str(fields[f]).strip() for f in LAYOUT.table(LOGICAL[table]).key)


class SagePro:
    """erp.raw.v1 records in, canonical events out, one transform with its own keyed state."""

    def __init__(self, pairs: dict[str, PairConfig] | None = None) -> None:
        self.handler = make_handler(pairs or PAIRS, KeyedState(Settings(), "versions", STOREFRONT_RAW,
                                                               TRANSFORM_VERSIONS_CHANGELOG),
                                    KeyedState(Settings(), "erp", ERP_RAW, TRANSFORM_ERP_CHANGELOG))
        self.offset = 0
        self.second = 0

    def event(self, table: str, fields: dict[str, Any], *, delete: bool = False, second: int | None = None,
              offset: int | None = None, pair_id: str = PAIR_ID, **raw_over: Any) -> Event:
        """The record of `fields` (a delete: only the key fields are read from them)."""
        if second is None:
            self.second += 1
            second = self.second
        key = row_key(table, fields)
        entity = str(fields[ENTITY_FIELD[LOGICAL[table]]]).strip()
        meta = {"event_id": f"e{self.offset}", "event_type": "erp.row.delete" if delete else "erp.row.upsert",
                "occurred_at": at(second), "recorded_at": datetime.now(timezone.utc), "source_system": "sagepro",
                "source_instance": "01", "source_entity_id": entity, "pair_id": pair_id,
                "correlation_id": f"c{self.offset}"}
        raw = {"metadata": meta, "erp": "sagepro", "table": table, "op": "delete" if delete else "upsert",
               "key": key, "before": None, "after": None if delete else json.dumps(fields, sort_keys=True),
               "position": position(second, key), **raw_over}
        if offset is None:
            self.offset += 1
            offset = self.offset
        return Event(ERP_RAW, 0, offset, entity.encode(), "sagebridge.v1.RawErpChange", raw, [], 0)

    def send(self, event: Event) -> list[Output]:
        """The canonical outputs (changelog records left out)."""
        return [o for o in self.handler(event) if o.topic != TRANSFORM_ERP_CHANGELOG]

    def row(self, table: str, fields: dict[str, Any], **kw: Any) -> list[Output]:
        return self.send(self.event(table, fields, **kw))


def icitem(item: str = "A100", **over: Any) -> dict[str, Any]:
    return {"item": item, "descrip": "Widget, standard", "category": "WIDG", "price": "11.0000", "status": "A",
            "weight": "0.500", **over}


def iciloc(item: str = "A100", loctid: str = "MAIN", on_hand: str = "10.00", committed: str = "2.00",
           **over: Any) -> dict[str, Any]:
    return {"item": item, "loctid": loctid, "on_hand": on_hand, "committed": committed, **over}


def icpric(item: str = "A100", pcode: str = "WEB", price: str = "12.5000") -> dict[str, Any]:
    return {"item": item, "pcode": pcode, "price": price}


def somast(sono: str = "1001", number: str = "1051", sostat: str = "", prefix: str = "XP1-",
           **over: Any) -> dict[str, Any]:
    return {"sono": sono, "custno": "W3F2A9C1D0", "ponum": f"{prefix}{number}", "ordate": "2026-12-01",
            "sostat": sostat, "sotype": "", "shipvia": "UPS-GROUND", "pterms": "", "tax": "1.20", "freight": "5.00",
            "discount": "0.00", "ordamt": "31.20", "loctid": "MAIN", "currency": "USD", "adduser": "SAGEBRIDGE",
            "adddate": "2026-12-01", "addtime": "10:00:00", "tracking": "", "shipdate": None, **over}


def arcust(custno: str = "W3F2A9C1D0", **over: Any) -> dict[str, Any]:
    return {"custno": custno, "name": "Black Hardware", "contact": "Ronald Black", "address1": "2 Elm Street",
            "address2": "Suite 4", "city": "Portland", "state": "OR", "zip": "97201", "country": "USA",
            "phone": "5035550100", "email": "Ron@Example.com", "pterms": "NET30", "adddate": "2026-12-01", **over}


def values(outputs: list[Output], topic: str) -> list[dict[str, Any]]:
    return [o.value for o in outputs if o.topic == topic]
