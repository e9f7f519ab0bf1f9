"""The `erp:` block of a pair whose ERP is Sage 300 (`kind: sage300`).

Field lengths and option values come from Sage's Application Object Model (OEORDH.PONUMBER is
char(22), OEORDH.REFERENCE char(60); ARCUS.SWCHKDUPPO 0 = None, 1 = Warning, 2 = Error).
"""
from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sagebridge_common.pairs import ConnectorConfig, RegexText

PO_MAX = 22             # OEORDH.PONUMBER char(22)
REFERENCE_MAX = 60      # OEORDH.REFERENCE char(60)
DESCRIPTION_MAX = 60    # batch Description: ARBTA.BTCHDESC, GLBCTL.BTCHDESC char(60)

# How the simulator words the refusal; Sage does not document the code or text of this refusal.
DEFAULT_DUPLICATE_PO_CODES = ("RecordInvalid", "RecordDuplicate", "General")
DEFAULT_DUPLICATE_PO_MESSAGE = r"(?i)purchase order (?:number )?(?P<po>\S+?)\.? has already been used"


class NewCustomerDefaults(BaseModel):
    """What a customer the hub creates gets besides the store's data (Sage 300 A/R Customers: the
    group, account set, terms and tax group must exist in A/R setup). Unset = not sent, so Sage fills
    the value from the customer group's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_code: str | None = Field(None, description="GroupCode (ARCUS.IDGRP, 6) of customers the hub creates.")
    account_set: str | None = Field(None, description="AccountSet (ARCUS.IDACCTSET, 6) of new customers.")
    terms: str | None = Field(None, description="Terms code (ARCUS.CODETERM, 6) of new customers.")
    tax_group: str | None = Field(None, description="TaxGroup (ARCUS.CODETAXGRP, 12) of new customers.")
    currency: str | None = Field(None, description=(
        "CurrencyCode (ARCUS.CODECURN, 3) of new customers; unset = the company's home currency."))


CDC_TABLES = ("ICILOC", "ICITEM", "ICPRICP", "ARCUS", "OEORDH", "OEORDH1", "OESHIH", "OESHID")


class DatabaseConfig(BaseModel):
    """The company database, read by change capture (erp_cdc) through a read-only login
    (reference §2.1: one SQL Server database per company, tables under dbo)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    connection_string: SecretStr = Field(description=(
        "ODBC connection string (secret, never logged); production: DRIVER={ODBC Driver 18 for SQL "
        "Server};SERVER=..;DATABASE=<org id>;UID=..;PWD=..;Encrypt=yes"))
    dialect: Literal["sqlserver", "sqlite"] = Field("sqlserver", description=(
        "SQL dialect: sqlserver (Sage 300 since 2016) or sqlite (the test engine)."))
    schema_name: str = Field("dbo", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                             description="Schema of the Sage tables (sqlserver only).")
    time_zone: str = Field("UTC", description=(
        "IANA zone of the Sage server's clock: AUDTDATE/AUDTTIME are its local time."))
    poll_interval_s: float = Field(1.0, gt=0, description="Seconds between polls of each table.")
    overlap_s: float = Field(2.0, ge=0, description=(
        "Each poll re-reads this many seconds before its cursor (transactions committed late with older stamps)."))
    batch_size: int = Field(500, ge=1, le=100000, description="Rows per range query (page).")
    reconcile_interval_s: float = Field(600.0, gt=0, description=(
        "Seconds between key reconciliations (a key listing per table: deleted rows become delete events)."))
    query_timeout_s: int = Field(30, ge=0, description="ODBC query timeout (0 = none).")
    tables: tuple[Literal[CDC_TABLES], ...] = Field(CDC_TABLES, description="Tables to capture.")  # type: ignore[valid-type]

    @field_validator("time_zone")
    @classmethod
    def _zone_exists(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as America/Chicago)") from None
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Sage300Config(ConnectorConfig):
    base_url: str = Field(description="Sage 300 server; the Web API is under /Sage300WebApi.")
    company: str = Field(description="Company org id in the Web API path (e.g. SAMINC).")
    user: str = Field(description="Sage 300 user with Web API rights.")
    password: SecretStr = Field(SecretStr(""), description="That user's password (secret; empty when "
                                                           "security is off for the system database).")
    timeout_s: float = Field(30.0, gt=0, description="Timeout of one Web API call.")
    max_concurrency: int = Field(16, ge=1, description="Web API calls in flight at once for this pair.")
    settle_delay_s: float = Field(10.0, ge=0, description=(
        "After an order POST whose answer was lost, wait this long since that attempt before looking the "
        "order up and posting again: it must exceed the time Sage can take to commit an order it is still "
        "working on, or the lookup can miss an order that is about to appear. The same wait applies to "
        "receipts, adjustments and journals, and after every writer start to any document it cannot find "
        "(the writer before it may have been killed mid-POST)."))
    duplicate_po_guard: bool = Field(True, description=(
        "Post without a lookup for customers whose CheckForDuplicatePOs is Error (Sage then refuses a "
        "repeated PO number itself); false = always look up first."))
    guard_ttl_s: float = Field(300.0, gt=0, description="Re-read a customer's CheckForDuplicatePOs after this long.")
    duplicate_po_codes: tuple[str, ...] = Field(DEFAULT_DUPLICATE_PO_CODES, description=(
        "Sage error codes that can carry the duplicate-PO refusal (with duplicate_po_message)."))
    duplicate_po_message: RegexText = Field(DEFAULT_DUPLICATE_PO_MESSAGE, description=(
        "Regex on the error message that marks the duplicate-PO refusal; a named group `po`, when "
        "present, must equal the PO number that was sent."))
    order_number_max_length: int = Field(10, ge=1, description=(
        "Longest store order number expected (X-Cart numbers are integers); reference_prefix plus this "
        "must fit PONUMBER's 22 characters, checked at start."))

    new_customers: NewCustomerDefaults = Field(default_factory=NewCustomerDefaults, description=(
        "Defaults for customers the hub creates in A/R (group, account set, terms, tax group, currency)."))
    database: DatabaseConfig | None = Field(None, description=(
        "The company database for change capture (erp_cdc); absent = no change capture for this pair."))


    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/Sage300WebApi/v1.0/-/{self.company}/"
