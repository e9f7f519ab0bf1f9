"""ERP order references -> store order numbers. The erp_writer writes `reference_prefix` + the store
order number into OEORDH.REFERENCE (and Sage copies it to the shipment's OESHIH.REFERENCE); a
reference without the prefix belongs to another pair, a POS or a phone order, and is not ours."""
from __future__ import annotations

from sagebridge_common.pairs import PairConfig


def store_order_number(reference: str | None, pair: PairConfig) -> str | None:
    """The store order number an ERP reference points to; None when the reference is not this pair's."""
    prefix = pair.reference_prefix
    if not reference or not reference.startswith(prefix) or len(reference) == len(prefix):
        return None
    return reference[len(prefix):]
