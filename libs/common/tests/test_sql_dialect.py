"""The production dialect's SQL, exactly as SQL Server receives it (the SQLite dialect runs for real
through ODBC in test_table_capture.py and the integration tests)."""
from __future__ import annotations

import pytest

from sagebridge_common.sql_dialect import dialect, key_query, range_query

ORDER = ("AUDTDATE", "AUDTTIME", "ITEMNO", "LOCATION")
COLS = ("ITEMNO", "LOCATION", "AUDTDATE", "AUDTTIME", "QTYONHAND")


def test_sqlserver_continues_a_scan_strictly_after_the_last_row_as_an_index_range():
    q = range_query(dialect("sqlserver"), "ICILOC", COLS, ORDER, 500,
                    after=[20260102, 12000000, "A1400", "WH1"])
    assert q.sql == (
        "SELECT TOP (500) [ITEMNO], [LOCATION], [AUDTDATE], [AUDTTIME], [QTYONHAND] FROM [dbo].[ICILOC] "
        "WHERE (([AUDTDATE] > ?) OR ([AUDTDATE] = ? AND [AUDTTIME] > ?) "
        "OR ([AUDTDATE] = ? AND [AUDTTIME] = ? AND [ITEMNO] > ?) "
        "OR ([AUDTDATE] = ? AND [AUDTTIME] = ? AND [ITEMNO] = ? AND [LOCATION] > ?)) "
        "ORDER BY [AUDTDATE], [AUDTTIME], [ITEMNO], [LOCATION]")
    assert q.params == (20260102, 20260102, 12000000, 20260102, 12000000, "A1400",
                        20260102, 12000000, "A1400", "WH1")


def test_sqlserver_starts_a_poll_at_the_stamp_minus_the_overlap_inclusive():
    q = range_query(dialect("sqlserver", "dbo"), "ICILOC", COLS, ORDER, 100, at_least=(20260102, 11595800))
    assert q.sql == (
        "SELECT TOP (100) [ITEMNO], [LOCATION], [AUDTDATE], [AUDTTIME], [QTYONHAND] FROM [dbo].[ICILOC] "
        "WHERE (([AUDTDATE] > ?) OR ([AUDTDATE] = ? AND [AUDTTIME] >= ?)) "
        "ORDER BY [AUDTDATE], [AUDTTIME], [ITEMNO], [LOCATION]")
    assert q.params == (20260102, 20260102, 11595800)


def test_sqlserver_filters_are_bound_and_come_first():
    q = range_query(dialect("sqlserver", "sage"), "ICPRICP", ("ITEMNO",), ("AUDTDATE", "AUDTTIME", "ITEMNO"), 10,
                    filters=(("CURRENCY", "USD"), ("PRICELIST", "WEB")))
    assert q.sql == ("SELECT TOP (10) [ITEMNO] FROM [sage].[ICPRICP] WHERE [CURRENCY] = ? AND [PRICELIST] = ? "
                     "ORDER BY [AUDTDATE], [AUDTTIME], [ITEMNO]")
    assert q.params == ("USD", "WEB")


def test_sqlserver_key_listing_reads_only_the_key():
    q = key_query(dialect("sqlserver"), "ICPRICP", ("CURRENCY", "ITEMNO"), filters=(("PRICELIST", "WEB"),))
    assert q.sql == ("SELECT [CURRENCY], [ITEMNO] FROM [dbo].[ICPRICP] WHERE [PRICELIST] = ? "
                     "ORDER BY [CURRENCY], [ITEMNO]")
    assert q.params == ("WEB",)


def test_sqlite_uses_limit_no_schema_and_trims_padded_filters():
    q = range_query(dialect("sqlite"), "ICPRICP", ("ITEMNO",), ("AUDTDATE", "AUDTTIME", "ITEMNO"), 10,
                    filters=(("PRICELIST", "WEB"),))
    assert q.sql == ('SELECT "ITEMNO" FROM "ICPRICP" WHERE RTRIM("PRICELIST") = ? '
                     'ORDER BY "AUDTDATE", "AUDTTIME", "ITEMNO" LIMIT 10')


def test_postgres_quotes_and_limits():
    q = range_query(dialect("postgres"), "t", ("A",), ("A",), 5, after=[1])
    assert q.sql == 'SELECT "A" FROM "public"."t" WHERE (("A" > ?)) ORDER BY "A" LIMIT 5'


@pytest.mark.parametrize("bad", ["ICILOC; DROP TABLE x", "A B", "x]"])
def test_identifiers_are_never_formatted_from_arbitrary_text(bad):
    with pytest.raises(ValueError):
        range_query(dialect("sqlserver"), bad, ("A",), ("A",), 1)


# -- Visual FoxPro (Sage Pro's tables through the VFP ODBC driver) --------------------------------
def test_vfp_pages_with_top_and_order_by_unquoted_without_schema():
    q = range_query(dialect("vfp"), "iciloc01", ("item", "loctid", "lonhand"), ("item", "loctid"), 1000,
                    after=["A100                ", "MAIN  "])
    assert q.sql == ("SELECT TOP 1000 item, loctid, lonhand FROM iciloc01 "
                     "WHERE ((item > ?) OR (item = ? AND loctid > ?)) ORDER BY item, loctid")
    assert q.params == ("A100                ", "A100                ", "MAIN  ")


def test_vfp_ignores_a_schema_and_narrows_by_a_date():
    from datetime import date
    q = range_query(dialect("vfp", "dbo"), "arcust01", ("custno",), ("custno",), 50,
                    not_before=(("adddate", date(2026, 1, 2)),))
    assert q.sql == "SELECT TOP 50 custno FROM arcust01 WHERE adddate >= ? ORDER BY custno"
    assert q.params == (date(2026, 1, 2),)


def test_vfp_filters_compare_trimmed_exactly_and_key_listing_is_plain():
    d = dialect("vfp")
    q = key_query(d, "icpric01", ("item", "pcode"), filters=(("pcode", "WEB"),))
    assert q.sql == "SELECT item, pcode FROM icpric01 WHERE RTRIM(pcode) == ? ORDER BY item, pcode"


def test_vfp_refuses_a_name_that_is_not_a_plain_identifier():
    with pytest.raises(ValueError):
        range_query(dialect("vfp"), "iciloc01; DELETE", ("item",), ("item",), 1)


def test_narrowing_on_postgres_binds_the_date_after_the_filters():
    q = range_query(dialect("postgres"), "t", ("a",), ("a",), 5, after=["x"], filters=(("f", 1),),
                    not_before=(("d", "2026-01-02"),))
    assert q.sql == ('SELECT "a" FROM "public"."t" WHERE "f" = ? AND "d" >= ? AND (("a" > ?)) '
                     'ORDER BY "a" LIMIT 5')
    assert q.params == (1, "2026-01-02", "x")
