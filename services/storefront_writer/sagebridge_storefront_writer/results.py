"""WriteResult v1 records on storefront.results.v1: one per handled input event (issue 7 contract §4).

`reference` is the store id written (product, variant or order id); `source_entity_id` the Kafka key.
"""
from __future__ import annotations

from sagebridge_common.events import Output, derived_metadata
from sagebridge_common.topics import STOREFRONT_RESULTS

RESULT_SCHEMA = "sagebridge.v1.WriteResult"
OUTCOMES = {"created": "updated", "updated": "updated", "already_present": "already_present",
            "skipped": "skipped", "failed": "failed"}


def write_result(source: dict, *, entity_type: str, source_entity_id: str, target: str, reference: str | None,
                 outcome: str, message: str | None = None) -> Output:
    outcome = OUTCOMES.get(outcome, "updated")
    value = {"metadata": derived_metadata(source["metadata"], f"storefront.{entity_type}.{outcome}"),
             "target_system": target, "entity_type": entity_type, "source_entity_id": source_entity_id,
             "reference": reference or source_entity_id, "outcome": outcome, "target_document_id": reference,
             "message": None if message is None else message[:500], "attempts": 1}
    return Output(STOREFRONT_RESULTS, source_entity_id, RESULT_SCHEMA, value)
