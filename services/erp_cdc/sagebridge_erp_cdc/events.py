"""The `erp.raw.v1` record (`sagebridge.v1.RawErpChange`) for one captured row change.

Key: the entity key (Sage 300 ITEMNO, IDCUST, ORDUNIQ, SHIUNIQ; Intacct ITEMID, DOCID), so the rows
the transform combines share a partition. `key` is the row's primary key, `after` the captured columns as JSON text (null for a
delete), `position` the sortable stamp and key (issue 7 contract, §1).
"""
from __future__ import annotations

from sagebridge_common.contracts import Change, SourceRecord
from sagebridge_common.events import Output, new_metadata
from sagebridge_common.topics import ERP_RAW

RAW_SCHEMA = "sagebridge.v1.RawErpChange"


def raw_change(record: SourceRecord, *, erp: str, instance: str, pair_id: str) -> Output:
    row = record.payload
    entity = row["entity_key"]
    meta = new_metadata(f"erp.row.{row['op']}", source_system=erp, source_instance=instance,
                        source_entity_id=entity, pair_id=pair_id, occurred_at=record.occurred_at)
    value = {"metadata": meta, "erp": erp, "table": row["table"], "op": row["op"], "key": row["key"],
             "before": None, "after": row["after"], "position": row["position"]}
    return Output(ERP_RAW, entity, RAW_SCHEMA, value)


def capture_outputs(*, erp: str, instance: str, pair_id: str):
    """The source runner's `outputs(record, change)` for one pair."""
    def outputs(record: SourceRecord, _change: Change) -> list[Output]:
        return [raw_change(record, erp=erp, instance=instance, pair_id=pair_id)]
    return outputs
