"""The `storefront:` block of a pair file for a store on 3dcart's legacy SOAP Store Web Service
(`kind: threedcart`, shift4shop.md §4): where the service is, which WSDL describes it, the two
credentials every call carries (`storeUrl`, `userKey`), how to poll, and the status id -> status
TEXT table `updateOrderStatus` needs (the service sets a status by its merchant-editable text).
"""
from __future__ import annotations

from importlib import resources
from typing import Literal

from pydantic import Field, SecretStr

from sagebridge_common.pairs import ConnectorConfig
from sagebridge_common.times import OptionalUtcDatetime

MAX_BATCH = 100     # getOrder / getCustomer / getProduct batchSize is 1..100 (§4)
DEFAULT_STATUS_TEXTS = {"1": "New", "2": "Processing", "3": "Partial", "4": "Shipped", "5": "Cancel",
                        "6": "Hold", "11": "Unpaid"}


def package_wsdl() -> str:
    """Path of the WSDL shipped in this package (`wsdl/cart.wsdl`)."""
    return str(resources.files(__package__).joinpath("wsdl", "cart.wsdl"))


class ThreeDCartStorefrontConfig(ConnectorConfig):
    kind: Literal["threedcart"]
    instance: str = Field("default", min_length=1, description="Names the store in event metadata and state keys.")
    service_url: str = Field("https://api.3dcart.com/cart.asmx", min_length=1,
                             description="SOAP endpoint; overrides the WSDL's soap:address.")
    wsdl_url: str = Field("", description="WSDL to load; empty: the WSDL shipped with the connector.")
    store_url: str = Field("", description="storeUrl parameter: the store's secure URL host.")
    user_key: SecretStr = Field(SecretStr(""), description="userKey parameter (32 chars, store admin API settings).")
    timeout_s: float = Field(20.0, gt=0, description="Timeout of one SOAP call.")
    poll_interval_s: float = Field(5.0, gt=0, description="Seconds between polls once the feed is read to its end.")
    batch_size: int = Field(MAX_BATCH, ge=1, le=MAX_BATCH, description="batchSize of one listing call.")
    recheck_days: int = Field(3, ge=0, le=60, description="Orders dated within this many store-local days are "
                                                           "re-read for status changes (0: new orders only).")
    start_at: OptionalUtcDatetime = Field(None, description="First start only (no saved cursor): orders dated before "
                                                        "this UTC time are skipped; unset = all.")
    rate_limit_per_s: float = Field(5.0, gt=0, description="SOAP calls per second to this store.")
    rate_limit_burst: int = Field(10, ge=1, description="Calls let through at once after a quiet spell.")
    status_texts: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATUS_TEXTS),
                                         description="Store status id -> the status TEXT updateOrderStatus takes.")

    @property
    def page_size(self) -> int:
        """What ingest's source runner asks of one `changes` call: one listing call's batchSize."""
        return self.batch_size

    @property
    def wsdl(self) -> str:
        return self.wsdl_url or package_wsdl()
