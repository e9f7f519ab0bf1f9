"""ERP writer settings."""
from __future__ import annotations

from pydantic import SecretStr

from sagebridge_common.settings import Settings


class ErpWriterSettings(Settings):
    service_name: str = "erp-writer"
    erp: str = "sage300"
    sage300_base_url: str = "http://127.0.0.1:8082"
    sage300_company: str = "SAMINC"
    sage300_user: str = "WEBAPI"
    sage300_password: SecretStr = SecretStr("")
    sage300_timeout_s: float = 30.0
    sage300_shipping_charge_code: str = "FRT"
