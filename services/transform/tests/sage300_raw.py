"""Builds erp.raw.v1 records as erp_cdc writes them (contract issue 7 §1) and runs them through
transform's handler with fresh keyed state: the shared fixture of the test_sage300_* modules."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sagebridge_common.events import Event, Output
from sagebridge_common.keyed_state import KeyedState
from sagebridge_common.pair_mapping import MappingTables
from sagebridge_common.pairs import PairConfig
from sagebridge_common.settings import Settings
from sagebridge_common.topics import ERP_RAW, STOREFRONT_RAW, TRANSFORM_ERP_CHANGELOG, TRANSFORM_VERSIONS_CHANGELOG
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.handler import make_handler
from sagebridge_transform.main import load_served_pairs

PAIRS = load_served_pairs(TransformSettings(pairs_path=str(Path(__file__).resolve().parents[3] / "pairs")))
PAIR_ID = "xcart-sage300"
DAY = 20241105
ENTITY_COLUMNS = {"ICITEM": "ITEMNO", "ICILOC": "ITEMNO", "ICPRICP": "ITEMNO", "ARCUS": "IDCUST",
                  "OEORDH": "ORDUNIQ", "OEORDH1": "ORDUNIQ", "OESHIH": "SHIUNIQ", "OESHID": "SHIUNIQ"}


def pairs_with(**mapping: Any) -> dict[str, PairConfig]:
    """The shipped pair with some `mapping:` blocks replaced."""
    pair = PAIRS[PAIR_ID]
    tables = MappingTables.model_validate({**pair.mapping.model_dump(), **mapping})
    return {PAIR_ID: pair.model_copy(update={"mapping": tables})}


def stamp_of(second: int) -> tuple[int, int]:
    """(AUDTDATE, AUDTTIME) `second` seconds after 10:00:00 on DAY."""
    s = 10 * 3600 + second
    return DAY, (s // 3600 * 10000 + s // 60 % 60 * 100 + s % 60) * 100


class Sage:
    """erp.raw.v1 records in, canonical events out, one transform with its own keyed state."""

    def __init__(self, pairs: dict[str, PairConfig] | None = None) -> None:
        self.erp_state = KeyedState(Settings(), "erp", ERP_RAW, TRANSFORM_ERP_CHANGELOG)
        self.handler = make_handler(pairs or PAIRS, KeyedState(Settings(), "versions", STOREFRONT_RAW,
                                                               TRANSFORM_VERSIONS_CHANGELOG), self.erp_state)
        self.offset = 0
        self.second = 0

    def event(self, table: str, key: str, after: dict[str, Any] | None, *, second: int | None = None,
              user: str = "ADMIN", offset: int | None = None) -> Event:
        if second is None:
            self.second += 1
            second = self.second
        date, time = stamp_of(second)
        entity = (after or {}).get(ENTITY_COLUMNS[table]) or key.split("|")[1 if table == "ICPRICP" else 0]
        if after is not None:
            after = {**after, "AUDTDATE": date, "AUDTTIME": time, "AUDTUSER": user}
        occurred = datetime(2024, 11, 5, 10, tzinfo=timezone.utc).timestamp() + second
        meta = {"event_id": f"e{self.offset}", "event_type": "erp.row.delete" if after is None else "erp.row.upsert",
                "occurred_at": datetime.fromtimestamp(occurred, timezone.utc), "recorded_at": datetime.now(timezone.utc),
                "source_system": "sage300", "source_instance": "SAMINC", "source_entity_id": str(entity),
                "pair_id": PAIR_ID, "correlation_id": f"c{self.offset}"}
        raw = {"metadata": meta, "erp": "sage300", "table": table, "op": "delete" if after is None else "upsert",
               "key": key, "before": None, "after": None if after is None else json.dumps(after),
               "position": f"{date * 100000000 + time:016d}|{key}"}
        if offset is None:
            self.offset += 1
            offset = self.offset
        return Event(ERP_RAW, 0, offset, str(entity).encode(), "sagebridge.v1.RawErpChange", raw, [], 0)

    def send(self, event: Event) -> list[Output]:
        """The canonical outputs (changelog records left out)."""
        return [o for o in self.handler(event) if o.topic != TRANSFORM_ERP_CHANGELOG]

    def row(self, table: str, key: str, after: dict[str, Any] | None, **kw: Any) -> list[Output]:
        return self.send(self.event(table, key, after, **kw))


def icitem(itemno: str = "WIDGET1", fmt: str = "WIDGET-1", **over: Any) -> dict[str, Any]:
    return {"ITEMNO": itemno, "FMTITEMNO": fmt, "DESC": "Widget, standard", "INACTIVE": 0, "ALLOWONWEB": 1,
            "CATEGORY": "WIDG", "UNITWGT": "0.5000", "STOCKUNIT": "EA", "DEFPRICLST": "WEB", **over}


def iciloc(itemno: str = "WIDGET1", location: str = "1", on_hand: str = "10.0000", **over: Any) -> dict[str, Any]:
    return {"ITEMNO": itemno, "LOCATION": location, "QTYONHAND": on_hand, "QTYRENOCST": "0.0000",
            "QTYADNOCST": "0.0000", "QTYSHNOCST": "0.0000", "QTYCOMMIT": "0.0000", "QTYSALORDR": "0.0000",
            "ACTIVE": 1, **over}


def icpricp(itemno: str = "WIDGET1", price: str = "12.500000", kind: int = 1, **over: Any) -> dict[str, Any]:
    return {"CURRENCY": "USD", "ITEMNO": itemno, "PRICELIST": "WEB", "DPRICETYPE": kind, "QTYUNIT": "EA",
            "WEIGHTUNIT": "", "UNITPRICE": price, "SALESTART": 0, "SALEEND": 0, **over}


def price_key(itemno: str = "WIDGET1", kind: int = 1) -> str:
    return f"USD|{itemno}|WEB|{kind}|EA|"


def values(outputs: list[Output], topic: str) -> list[dict[str, Any]]:
    return [o.value for o in outputs if o.topic == topic]
