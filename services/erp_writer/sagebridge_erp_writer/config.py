"""ERP writer settings. The ERP's connection, timeouts and idempotency options live in each pair
file's `erp:` block (PAIRS_PATH), not here."""
from __future__ import annotations

from sagebridge_common.settings import Settings


class ErpWriterSettings(Settings):
    service_name: str = "erp-writer"
