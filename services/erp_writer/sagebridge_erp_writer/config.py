"""ERP writer settings."""
from __future__ import annotations

from pydantic import Field, SecretStr

from sagebridge_common.settings import Settings


class ErpWriterSettings(Settings):
    service_name: str = "erp-writer"
    erp: str = Field("sage300", description="Target ERP (sage300).")
    sage300_base_url: str = Field("http://127.0.0.1:8082", description="Sage 300 server; the Web API is under /Sage300WebApi.")
    sage300_company: str = Field("SAMINC", description="Company org id in the Web API path.")
    sage300_user: str = Field("WEBAPI", description="Sage 300 user with Web API rights.")
    sage300_password: SecretStr = Field(SecretStr(""), description="Sage 300 password (secret).")
    sage300_timeout_s: float = Field(30.0, description="Timeout of one Web API call.")
    sage300_shipping_charge_code: str = Field("FRT", description="OE miscellaneous charge code for storefront shipping.")
