"""The `erp:` block of a pair whose ERP is Sage Intacct (`kind: intacct`, the XML API).

Everything that differs from one Intacct company to the next lives here: the gateway, the Web
Services sender and the API user (intacct.md §1: senderid/password in the control block,
login userid/companyid/password/locationid in the operation), the per-company request cap, the
company's time zone (WHENMODIFIED literals are written in it), the transaction definition orders
are created with, and what change capture reads. Business choices shared with the other ERPs
(payment banks, charge placement, item numbers, locations) stay in the pair's `mapping:` block.

Not confirmed by Sage's public documentation (intacct.md §6), hence configurable: the wording of
the refusal of a repeated function control id under `uniqueid=true`, the quantity field names of
ITEMWAREHOUSEINFO, and the field that carries a shipper document's tracking number.
"""
from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from sagebridge_common.pairs import ConnectorConfig, RegexText
from sagebridge_common.times import OptionalUtcDatetime

DEFAULT_GATEWAY = "https://api.intacct.com/ia/xml/xmlgw.phtml"       # intacct.md §1 (SDK default)
# Our assumption (intacct.md §6: the refusal's errorno and text are not documented); the simulator
# words it this way. Correct both keys if a live company answers otherwise.
DEFAULT_DUPLICATE_CONTROL_MESSAGE = r"(?i)control ?id\b.*\b(already|previously)\b"
CAPTURE_STREAMS = ("item", "item_warehouse", "sales_order", "shipment")
ERP_ORDER_STATUSES = ("open", "on_hold", "partially_shipped", "shipped", "complete")


def _empty_is_unset(v):
    """`${NAME:-}` in a pair file gives "": the key is unset."""
    return None if isinstance(v, str) and not v.strip() else v


OptionalInt = Annotated[int | None, BeforeValidator(_empty_is_unset)]
OptionalStr = Annotated[str | None, BeforeValidator(_empty_is_unset)]


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (use an IANA name such as America/Los_Angeles)") from None
    return v


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewCustomerDefaults(_Block):
    """What a CUSTOMER the hub creates gets besides the store's data; unset = not sent (Intacct
    applies the company's defaults). Values must exist in the company (terms, customer types)."""

    customer_type: OptionalStr = Field(None, description="CUSTTYPE of new customers.")
    terms: OptionalStr = Field(None, description="TERMNAME of new customers.")
    currency: OptionalStr = Field(None, description="CURRENCY of new customers (multi-currency companies).")


class BudgetConfig(_Block):
    """Intacct bills API transactions per month (intacct.md §5: each query call and each created or
    updated record counts; overage is billed, not blocked). The hub counts every one it spends."""

    monthly_transactions: OptionalInt = Field(None, ge=1, description=(
        "The company's monthly API transaction allowance (its performance tier); unset = count only. "
        "When set, change capture slows its polls so that it spends at most `capture_share` of it."))
    capture_share: float = Field(0.5, gt=0, le=1, description=(
        "Fraction of monthly_transactions change capture may spend; writes are never held back."))


class ChangeCaptureConfig(_Block):
    """erp_cdc: `readByQuery` on WHENMODIFIED >= the watermark (intacct.md §4 "Reading changes")."""

    poll_interval_s: float = Field(10.0, gt=0, description="Seconds between polls of each stream "
                                                           "(each poll costs at least one API transaction per stream).")
    page_size: int = Field(1000, ge=1, le=1000, description="readByQuery `pagesize` (Intacct: 1..1000).")
    batch_size: int = Field(500, ge=1, le=10000, description="Changes handed to the runner per page.")
    overlap_s: float = Field(60.0, ge=0, le=86400, description=(
        "Each poll re-reads this many seconds before its watermark (WHENMODIFIED has one-second "
        "resolution and a record can commit after a later one); repeats are dropped by (id, WHENMODIFIED)."))
    start_at: OptionalUtcDatetime = Field(None, description=(
        "First start only (no saved cursor): ignore records modified before this UTC time; unset = all."))
    streams: tuple[Literal[CAPTURE_STREAMS], ...] = Field(CAPTURE_STREAMS, description=(  # type: ignore[valid-type]
        "What to capture: item (ITEM: price, status, description), item_warehouse (ITEMWAREHOUSEINFO: "
        "stock per warehouse), sales_order (the order definition's STATE), shipment (shipper documents: tracking)."))
    on_hand_field: str = Field("QTYONHAND", description="ITEMWAREHOUSEINFO field with the quantity on hand "
                                                        "(not confirmed by Sage's docs: check with `lookup`).")
    on_hold_field: OptionalStr = Field("QTYONHOLD", description="ITEMWAREHOUSEINFO field with the quantity on "
                                                               "hold (subtracted for `available`); unset = none.")
    shipment_definition: str = Field("Shipper", min_length=1, description=(
        "Transaction definition (docparid) of the documents a shipped order is converted to."))
    tracking_field: str = Field("TRACKINGNUMBER", min_length=1, description=(
        "Field of a shipper document holding the carrier's tracking number (often a custom field)."))
    carrier_field: str = Field("SHIPVIAKEY", min_length=1, description="Field of a shipper document naming the "
                                                                       "carrier / ship-via method.")
    order_states: dict[str, Literal[ERP_ORDER_STATUSES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"Draft": "open", "Pending": "open", "In Progress": "open",
                                 "Partially Converted": "partially_shipped", "Converted": "shipped",
                                 "Closed": "complete"},
        description="Sales order STATE -> canonical ERP order status; states not listed are ignored.")
    budget: BudgetConfig = Field(default_factory=BudgetConfig)

    @property
    def enabled_streams(self) -> tuple[str, ...]:
        return tuple(self.streams)


class IntacctConfig(ConnectorConfig):
    kind: Literal["intacct"]
    endpoint_url: str = Field(DEFAULT_GATEWAY, description=(
        "XML gateway for getAPISession; later requests go to the endpoint the session names."))
    sender_id: str = Field("", description="Web Services sender id (authorised in the company); empty = not set up (readiness says so).")
    sender_password: SecretStr = Field(SecretStr(""), description="Web Services sender password (secret).")
    company_id: str = Field("", description="Company id of the login.")
    user_id: str = Field("", description="Web Services user of the company.")
    user_password: SecretStr = Field(SecretStr(""), description="That user's password (secret).")
    entity_id: OptionalStr = Field(None, description=(
        "Multi-entity companies: the entity (login `locationid`) the hub works in; unset = top level."))
    timeout_s: float = Field(60.0, gt=0, description="Timeout of one gateway request.")
    request_tries: int = Field(4, ge=1, le=10, description=(
        "Tries of one request on GW-0010/429, HTTP 5xx other than 524, an off-line answer or a connection "
        "failure before sending; then the record is retried later by the runtime."))
    retry_backoff_s: float = Field(0.5, ge=0, le=30, description=(
        "First pause between those tries (doubled each time, at most 30 s; a Retry-After is honoured)."))
    max_concurrency: int = Field(2, ge=1, le=50, description=(
        "Requests in flight at once against this company, per process, shared by every pair and role "
        "in it (most tiers allow 2 concurrent requests; a GW-0010 answer is retried)."))
    company_time_zone: str = Field("UTC", description=(
        "IANA zone of the company: WHENMODIFIED is compared in it and document dates are written in "
        "the store's zone."))
    transaction_definition: str = Field("Sales Order", min_length=1, description=(
        "OE transaction definition store orders are created with (create_sotransaction transactiontype)."))
    exchange_rate_type: OptionalStr = Field(None, description=(
        "Multi-currency companies: the exchratetype sent with each order's currency (an order's own rate "
        "type, mapping.currency_rate_type, wins). Unset = no currency is sent: orders are in the company's "
        "base currency, which must be the pair's `currency` (another currency is refused to the DLQ)."))
    order_state: Literal["Draft", "Pending", "Closed"] | None = Field(None, description=(
        "`state` of created orders; unset = the definition's default."))
    terms: OptionalStr = Field(None, description="termname of created orders; unset = datedue is the order date.")
    line_location_id: OptionalStr = Field(None, description=(
        "Line `locationid` (required in multi-entity companies); unset = entity_id."))
    department_id: OptionalStr = Field(None, description="Line `departmentid`; unset = not sent.")
    payment_methods: dict[str, str] = Field(default_factory=lambda: {"default": "Credit Card"}, description=(
        "ERP payment code (mapping.payment_methods' result) -> ARPYMT PAYMENTMETHOD; `default` allowed. "
        "The bank (FINANCIALENTITY) is mapping.payments.methods' bank_code."))
    invoice_definition: OptionalStr = Field("Sales Invoice", description=(
        "OE definition whose documents post the order's AR invoice; a payment is applied to it when one "
        "exists for the order's reference, else recorded on the customer as an advance. Unset = always advance."))
    gl_journal: str = Field("GJ", min_length=1, description="GLBATCH JOURNAL symbol for gateway-fee entries.")
    new_customers: NewCustomerDefaults = Field(default_factory=NewCustomerDefaults)
    duplicate_control_errors: tuple[str, ...] = Field((), description=(
        "errorno values that mean 'this function control id already ran' (uniqueid=true); empty = any "
        "errorno whose text matches duplicate_control_message."))
    duplicate_control_message: RegexText = Field(DEFAULT_DUPLICATE_CONTROL_MESSAGE, description=(
        "Regex on description/description2 marking that refusal (not documented by Sage)."))
    change_capture: ChangeCaptureConfig | None = Field(None, description=(
        "erp_cdc's queries; absent = no change capture for this pair."))

    _zones = field_validator("company_time_zone")(classmethod(lambda cls, v: _zone(v)))


    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("endpoint_url must be an http(s) URL")
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.company_time_zone)

    def missing_credentials(self) -> list[str]:
        """The login keys left empty (a pair file may ship without them; the gateway refuses to log in)."""
        values = {"sender_id": self.sender_id, "sender_password": self.sender_password.get_secret_value(),
                  "company_id": self.company_id, "user_id": self.user_id,
                  "user_password": self.user_password.get_secret_value()}
        return [k for k, v in values.items() if not v]

    @property
    def location(self) -> str | None:
        """The line `locationid`."""
        return self.line_location_id or self.entity_id

    def payment_method(self, code: str | None) -> str:
        method = self.payment_methods.get(code or "", self.payment_methods.get("default"))
        if method is None:
            from sagebridge_common.errors import PermanentError
            raise PermanentError(f"no Intacct PAYMENTMETHOD for payment code {code!r} (erp.payment_methods has no "
                                 f"entry and no default)", reason="intacct_payment_method_unmapped")
        return method
