"""WriteResult v1 records on erp.results.v1: one per input event, whatever its entity.

`reference` is what a person searches the ERP for: the order reference (XC1-1001), a receipt's or
adjustment's batch description (XC1-1001-Pt55, XC1-1001-Rb7), a customer's e-mail key.
"""
from __future__ import annotations

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.topics import ERP_RESULTS

RESULT_SCHEMA = "sagebridge.v1.WriteResult"


def write_result(source: dict, *, entity_type: str, source_entity_id: str, target: str, reference: str,
                 outcome: str, document: str | None = None, message: str | None = None) -> Output:
    value = {"metadata": derived_metadata(source["metadata"], f"erp.{entity_type}.{outcome}"),
             "target_system": target, "entity_type": entity_type, "source_entity_id": source_entity_id,
             "reference": reference, "outcome": outcome, "target_document_id": document,
             "message": None if message is None else message[:500], "attempts": 1}
    return Output(ERP_RESULTS, source_entity_id, RESULT_SCHEMA, value)
