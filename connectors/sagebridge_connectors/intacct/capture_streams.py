"""What change capture reads per stream (issue 9 contract §6): the object, its fields, the
`docparid`, and the table / key / entity key of the erp.raw.v1 records made from its rows.

- item -> ITEM, key and entity ITEMID (price, status, description, product line).
- item_warehouse -> ITEMWAREHOUSEINFO, key `ITEMID|WAREHOUSEID`, entity ITEMID: all of an item's
  warehouse rows share the Kafka key (and transform's keyed state) with its ITEM rows, so the
  warehouses can be summed or picked per store location. The quantity fields are the config's
  (`on_hand_field`, `on_hold_field`: their names are not confirmed by Sage, intacct.md §6).
- sales_order -> SODOCUMENT of `erp.transaction_definition`, table SODOCUMENT, key and entity DOCID.
- shipment -> SODOCUMENT of `change_capture.shipment_definition`, table SHIPPER, key and entity
  DOCID; REFERENCENO (copied from the order) names the store order, the tracking and carrier
  fields are the config's.

Only fields the simulator and a stock company both know are asked for: `readByQuery` fails the
whole call on an unknown one ("Invalid fields list X", intacct.md §2).
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import ChangeCaptureConfig, IntacctConfig

STAMP = "WHENMODIFIED"
RECORDNO = "RECORDNO"
DOC_FIELDS = ("RECORDNO", "DOCID", "DOCNO", "DOCPARID", "CUSTVENDID", "REFERENCENO", "STATE")


@dataclass(frozen=True)
class CaptureStream:
    name: str                      # the config's stream name (item, item_warehouse, ...)
    obj: str                       # readByQuery object
    table: str                     # erp.raw.v1 `table`
    fields: tuple[str, ...]
    key: tuple[str, ...]           # fields joined by "|" -> erp.raw.v1 `key`
    entity: str                    # field -> erp.raw.v1 entity_key (the Kafka key)
    docparid: str | None = None


def _unique(*names: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def capture_streams(erp: IntacctConfig, cc: ChangeCaptureConfig) -> dict[str, CaptureStream]:
    """The enabled streams, in the config's order."""
    specs = {
        "item": CaptureStream("item", "ITEM", "ITEM", _unique(
            RECORDNO, "ITEMID", "NAME", "STATUS", "ITEMTYPE", "BASEPRICE", "EXTENDED_DESCRIPTION", "PRODUCTLINEID",
            STAMP), ("ITEMID",), "ITEMID"),
        "item_warehouse": CaptureStream("item_warehouse", "ITEMWAREHOUSEINFO", "ITEMWAREHOUSEINFO", _unique(
            RECORDNO, "ITEMID", "WAREHOUSEID", cc.on_hand_field, cc.on_hold_field, STAMP),
            ("ITEMID", "WAREHOUSEID"), "ITEMID"),
        "sales_order": CaptureStream("sales_order", "SODOCUMENT", "SODOCUMENT", _unique(
            *DOC_FIELDS, "TOTAL", "CURRENCY", STAMP), ("DOCID",), "DOCID", erp.transaction_definition),
        "shipment": CaptureStream("shipment", "SODOCUMENT", "SHIPPER", _unique(
            *DOC_FIELDS, "CREATEDFROM", "WHENCREATED", cc.tracking_field, cc.carrier_field, STAMP),
            ("DOCID",), "DOCID", cc.shipment_definition),
    }
    return {name: specs[name] for name in dict.fromkeys(cc.enabled_streams)}
