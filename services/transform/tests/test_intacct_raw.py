"""Builds erp.raw.v1 records as erp_cdc writes them for Intacct (issue 9 contract §6) and runs them
through transform's handler with fresh keyed state: the shared fixture of the test_intacct_* modules."""
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
from sagebridge_transform.config import TransformSettings
from sagebridge_transform.handler import make_handler
from sagebridge_transform.main import load_served_pairs

PAIRS = load_served_pairs(TransformSettings(pairs_path=str(Path(__file__).resolve().parents[3] / "pairs")))
PAIR_ID = "xcart-intacct"
T0 = datetime(2026, 12, 2, 18, 0, tzinfo=timezone.utc)
ENTITY = {"ITEM": "ITEMID", "ITEMWAREHOUSEINFO": "ITEMID", "SODOCUMENT": "DOCID", "SHIPPER": "DOCID"}
KEY = {"ITEM": ("ITEMID",), "ITEMWAREHOUSEINFO": ("ITEMID", "WAREHOUSEID"), "SODOCUMENT": ("DOCID",),
       "SHIPPER": ("DOCID",)}


def pairs_with(erp: dict[str, Any] | None = None, **mapping: Any) -> dict[str, PairConfig]:
    """The shipped pair with some `mapping:` blocks (and `erp.change_capture` keys) replaced."""
    pair = PAIRS[PAIR_ID]
    tables = MappingTables.model_validate({**pair.mapping.model_dump(), **mapping})
    update: dict[str, Any] = {"mapping": tables}
    if erp:
        cc = pair.erp.change_capture.model_copy(update=erp)
        update["erp"] = pair.erp.model_copy(update={"change_capture": cc})
    return {PAIR_ID: pair.model_copy(update=update)}


class Intacct:
    """erp.raw.v1 records in, canonical events out, one transform with its own keyed state."""

    def __init__(self, pairs: dict[str, PairConfig] | None = None) -> None:
        self.handler = make_handler(pairs or PAIRS, KeyedState(Settings(), "versions", STOREFRONT_RAW,
                                                               TRANSFORM_VERSIONS_CHANGELOG),
                                    KeyedState(Settings(), "erp", ERP_RAW, TRANSFORM_ERP_CHANGELOG))
        self.offset = 0
        self.second = 0

    def event(self, table: str, fields: dict[str, str], *, second: int | None = None, recordno: int = 1,
              offset: int | None = None) -> Event:
        if second is None:
            self.second += 1
            second = self.second
        at = T0 + timedelta(seconds=second)
        after = {"RECORDNO": str(recordno), **fields, "WHENMODIFIED": at.strftime("%m/%d/%Y %H:%M:%S"),
                 "WHENMODIFIED_UTC": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        entity = fields[ENTITY[table]]
        meta = {"event_id": f"e{self.offset}", "event_type": "erp.row.upsert", "occurred_at": at,
                "recorded_at": datetime.now(timezone.utc), "source_system": "intacct",
                "source_instance": "ACME", "source_entity_id": entity, "pair_id": PAIR_ID,
                "correlation_id": f"c{self.offset}"}
        raw = {"metadata": meta, "erp": "intacct", "table": table, "op": "upsert",
               "key": "|".join(fields[k] for k in KEY[table]), "before": None,
               "after": json.dumps(after, sort_keys=True), "position": f"{int(at.timestamp()):012d}|{recordno:012d}"}
        if offset is None:
            self.offset += 1
            offset = self.offset
        return Event(ERP_RAW, 0, offset, entity.encode(), "sagebridge.v1.RawErpChange", raw, [], 0)

    def send(self, event: Event) -> list[Output]:
        """The canonical outputs (changelog records left out)."""
        return [o for o in self.handler(event) if o.topic != TRANSFORM_ERP_CHANGELOG]

    def row(self, table: str, fields: dict[str, str], **kw: Any) -> list[Output]:
        return self.send(self.event(table, fields, **kw))


def item(itemid: str = "WIDGET-1", **over: str) -> dict[str, str]:
    return {"ITEMID": itemid, "NAME": "Widget", "STATUS": "active", "ITEMTYPE": "Inventory", "BASEPRICE": "12.50",
            "EXTENDED_DESCRIPTION": "A standard widget.", "PRODUCTLINEID": "", **over}


def stock(itemid: str = "WIDGET-1", warehouse: str = "WH1", on_hand: str = "10", on_hold: str = "0",
          **over: str) -> dict[str, str]:
    return {"ITEMID": itemid, "WAREHOUSEID": warehouse, "QTYONHAND": on_hand, "QTYONHOLD": on_hold, **over}


def order(number: str = "1001", state: str = "Pending", prefix: str = "XI1-", **over: str) -> dict[str, str]:
    return {"DOCID": "Sales Order-SO-00001", "DOCNO": "SO-00001", "DOCPARID": "Sales Order", "CUSTVENDID": "W1",
            "REFERENCENO": f"{prefix}{number}", "STATE": state, "TOTAL": "25.00", "CURRENCY": "USD", **over}


def shipper(number: str = "1001", tracking: str = "1Z999", prefix: str = "XI1-", **over: str) -> dict[str, str]:
    return {"DOCID": "Shipper-SH-00001", "DOCNO": "SH-00001", "DOCPARID": "Shipper", "CUSTVENDID": "W1",
            "REFERENCENO": f"{prefix}{number}", "STATE": "Pending", "CREATEDFROM": "Sales Order-SO-00001",
            "WHENCREATED": "12/02/2026", "TRACKINGNUMBER": tracking, "SHIPVIAKEY": "UPS Ground", **over}


def values(outputs: list[Output], topic: str) -> list[dict[str, Any]]:
    return [o.value for o in outputs if o.topic == topic]
