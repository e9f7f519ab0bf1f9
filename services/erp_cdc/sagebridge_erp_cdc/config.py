"""erp_cdc settings (on top of the shared runtime settings).

What is captured, from where and how often lives in each pair file's `erp:` block (Sage 300's
`database`, Intacct's `change_capture`); the environment only tunes the service itself.
"""
from __future__ import annotations

from pydantic import Field

from sagebridge_common.settings import Settings


class ErpCdcSettings(Settings):
    service_name: str = "erp-cdc"
    cdc_memory_wait_s: float = Field(
        30.0, gt=0, description="At start, how long a poll waits for the row memory (ERP_CDC_ROWS) to be read "
                                "whole before the cycle is retried (nothing is emitted from a half-read memory).")
