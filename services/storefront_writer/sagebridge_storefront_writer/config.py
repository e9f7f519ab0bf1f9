"""storefront_writer settings. The store's address, tokens, rate limit and tracking mode live in each
pair file's `storefront:` block (PAIRS_PATH); only how records are held before writing is here."""
from __future__ import annotations

from pydantic import Field, model_validator

from sagebridge_common.settings import Settings


class StorefrontWriterSettings(Settings):
    service_name: str = "storefront-writer"
    coalesce_window_ms: int = Field(500, ge=0, description="storefront_writer: a stock, product, status or customer "
                                    "record waits this long for a newer one of the same key; only the latest is "
                                    "written (0 = write every record).")
    coalesce_max_hold_ms: int = Field(5000, ge=0, description="storefront_writer: a key that keeps changing is "
                                      "written at least this often.")

    @model_validator(mode="after")
    def _hold_covers_window(self):
        if self.coalesce_max_hold_ms < self.coalesce_window_ms:
            raise ValueError("COALESCE_MAX_HOLD_MS must be at least COALESCE_WINDOW_MS")
        return self
