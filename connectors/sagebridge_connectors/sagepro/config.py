"""The `erp:` block of a pair whose ERP is Sage Pro ERP (`kind: sagepro`).

Sage Pro has no web API (reference sage300_sagepro.md §3): the hub writes the company's tables in
one ODBC transaction per document and reads them back by snapshot diff. Production reaches the
Visual FoxPro tables through the VFP ODBC driver (32-bit only), a DSN on the agent machine; change
capture can instead read the DBF files directly (`change_capture.source: dbf`). The table layout
(names, columns, widths, padding) is data: `layout` overrides the packaged default
(`default_layout.yaml`) key by key.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from sagebridge_common.pairs import ConnectorConfig

from .layout import CAPTURE_TABLES, Layout, load_layout

ERP_ORDER_STATUSES = ("open", "on_hold", "partially_shipped", "shipped", "complete", "cancelled")


def _empty_is_unset(v):
    """`${NAME:-}` in a pair file gives "": the key is unset."""
    return None if isinstance(v, str) and not v.strip() else v


OptionalStr = Annotated[str | None, BeforeValidator(_empty_is_unset)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChangeCaptureConfig(_Block):
    """erp_cdc: a snapshot diff of each table (Sage Pro rows carry no audit stamps)."""

    source: Literal["odbc", "dbf"] = Field("odbc", description=(
        "odbc: read through `connection_string` (or the writer's); dbf: read the company's .dbf files "
        "in `dbf_dir` directly, read-only (an agent without the 32-bit VFP ODBC driver)."))
    connection_string: SecretStr = Field(SecretStr(""), description=(
        "ODBC connection string for reading (secret); empty = the writer's `erp.connection_string`."))
    dbf_dir: OptionalStr = Field(None, description="Directory of the company's DBF tables (source: dbf).")
    poll_interval_s: float = Field(30.0, gt=0, description=(
        "Seconds between the end of one scan of a table and the start of the next."))
    batch_size: int = Field(1000, ge=1, le=100000, description="Rows per page of a scan.")
    rows_per_s: float = Field(2000.0, gt=0, description=(
        "Upper bound on rows read per second per table, so a scan does not load the ERP."))
    full_scan_interval_s: float = Field(3600.0, gt=0, description=(
        "Tables with a `changed_since` field in the layout: a full scan (which also finds deletes) at "
        "least this often; the scans between read only rows changed on or after the previous scan's date."))
    tables: tuple[Literal[tuple(CAPTURE_TABLES)], ...] = Field(  # type: ignore[valid-type]
        tuple(CAPTURE_TABLES), description="Logical tables to capture (item_location, item, price, customer, order_header).")

    @field_validator("tables")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("a table is listed twice")
        return v


class NewCustomerDefaults(_Block):
    """What an arcust row the hub creates gets besides the store's data; unset = left blank."""

    pterms: OptionalStr = Field(None, description="Terms code of new customers.")


class SageProConfig(ConnectorConfig):
    kind: Literal["sagepro"]
    connection_string: SecretStr = Field(SecretStr(""), description=(
        "ODBC connection string of the company database for the writer (secret, never logged): "
        "`DSN=SagePro` or `DRIVER={Microsoft Visual FoxPro Driver};SourceType=DBC;SourceDB=...`; "
        "empty = not set up (readiness says so)."))
    dialect: Literal["vfp", "postgres", "sqlite"] = Field("vfp", description=(
        "SQL dialect of that connection: vfp (Sage Pro's own tables), postgres or sqlite (test engines)."))
    company: str = Field("01", pattern=r"^[0-9A-Za-z]{1,3}$", description=(
        "Company id: the suffix of every table name (somast01)."))
    layout: dict[str, Any] = Field(default_factory=dict, description=(
        "Overrides of the table layout (default_layout.yaml), merged key by key; null removes an optional field."))
    login_timeout_s: int = Field(15, ge=1, description="ODBC login timeout.")
    query_timeout_s: int = Field(30, ge=0, description="ODBC query timeout (0 = none).")
    lock_timeout_s: float = Field(5.0, gt=0, description=(
        "How long one statement waits for a lock held by Sage Pro or another writer before the "
        "transaction is rolled back and retried (a lock timeout is transient)."))
    write_tries: int = Field(4, ge=1, le=10, description=(
        "Tries of one document's transaction on a lock timeout or busy error; then the runtime retries later."))
    retry_backoff_s: float = Field(0.2, ge=0, le=30, description="First pause between those tries (doubled each time).")
    max_connections: int = Field(4, ge=1, le=32, description="Writer connections open at once.")
    location: OptionalStr = Field(None, description="loctid of order headers and lines; unset = mapping.default_location.")
    user_stamp: str = Field("SAGEBRIDGE", max_length=10, description="adduser of rows the hub writes.")
    order_status_codes: dict[str, Literal[ERP_ORDER_STATUSES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"": "open", "H": "on_hold", "P": "partially_shipped", "S": "shipped",
                                 "C": "complete", "X": "cancelled"},
        description="somast sostat -> canonical ERP order status (sostat '' = open); codes not listed are ignored.")
    new_customers: NewCustomerDefaults = Field(default_factory=NewCustomerDefaults)
    change_capture: ChangeCaptureConfig | None = Field(None, description=(
        "erp_cdc's snapshot diff; absent = no change capture for this pair."))

    @field_validator("layout")
    @classmethod
    def _layout_loads(cls, v: dict[str, Any]) -> dict[str, Any]:
        load_layout(v)                   # refuse a broken override at start, with pydantic's message
        return v

    @property
    def table_layout(self) -> Layout:
        return load_layout(self.layout)

    def missing_credentials(self) -> list[str]:
        return [] if self.connection_string.get_secret_value() else ["connection_string"]

    def capture_connection_string(self) -> str:
        cc = self.change_capture
        own = cc.connection_string.get_secret_value() if cc else ""
        return own or self.connection_string.get_secret_value()
