"""Company-local WHENMODIFIED literals and daylight saving: the query bound covers the repeated
fall-back hour whichever way Intacct reads it, a stamp in that hour is read as the instant it can
have been at the time of the read, and an edit in the second pass is newer than one in the first."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sagebridge_connectors.intacct.capture import IntacctCapture
from sagebridge_connectors.intacct.capture_cursor import (CaptureCursor, floor_of, since_literal, stamp_to_utc,
                                                          to_literal)

from .test_intacct_capture import Clock, drain, ids, item, make_pair  # noqa: F401 - the fixture
from .test_intacct_capture_fake import clean_faults, gateway  # noqa: F401 - fixtures

LA = ZoneInfo("America/Los_Angeles")
FIRST_PASS = datetime(2026, 11, 1, 8, 30, tzinfo=timezone.utc)      # 01:30 PDT
SECOND_PASS = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)     # 01:30 PST, an hour later


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def test_an_ordinary_bound_is_the_company_wall_time():
    assert since_literal(epoch(datetime(2026, 12, 2, 18, 0, 5, tzinfo=timezone.utc)), LA) == "12/02/2026 10:00:05"
    assert since_literal(epoch(datetime(2026, 7, 1, 18, 0, tzinfo=timezone.utc)), LA) == "07/01/2026 11:00:00"


def test_a_bound_in_the_first_pass_of_the_repeated_hour_moves_back_by_the_shift():
    """'01:30' read as PST would be 09:30 UTC, an hour after the target: the bound becomes 00:30 PDT."""
    assert since_literal(epoch(FIRST_PASS), LA) == "11/01/2026 00:30:00"
    assert floor_of(epoch(FIRST_PASS), LA) == epoch(FIRST_PASS - timedelta(hours=1))


def test_a_bound_in_the_second_pass_is_kept_its_earlier_reading_is_only_earlier():
    assert since_literal(epoch(SECOND_PASS), LA) == "11/01/2026 01:30:00"
    assert floor_of(epoch(SECOND_PASS), LA) == epoch(SECOND_PASS - timedelta(hours=1))


def test_a_repeated_stamp_is_the_latest_reading_not_after_the_read():
    text = "11/01/2026 01:30:00"
    assert stamp_to_utc(text, LA, epoch(FIRST_PASS) + 60) == epoch(FIRST_PASS)     # 01:30 PST is still ahead
    assert stamp_to_utc(text, LA, epoch(SECOND_PASS) + 60) == epoch(SECOND_PASS)
    assert stamp_to_utc("07/01/2026 11:00:00", LA, 0) == epoch(datetime(2026, 7, 1, 18, tzinfo=timezone.utc))
    assert stamp_to_utc("2026-07-01 11:00", LA, 0) is None and stamp_to_utc("", LA, 0) is None


def test_the_spring_forward_gap_never_appears_in_a_bound():
    before = datetime(2026, 3, 8, 9, 59, 59, tzinfo=timezone.utc)     # 01:59:59 PST, then 03:00 PDT
    assert since_literal(epoch(before), LA) == "03/08/2026 01:59:59"
    assert since_literal(epoch(before) + 1, LA) == "03/08/2026 03:00:00"
    assert stamp_to_utc("03/08/2026 02:30:00", LA, epoch(before) + 7200) is not None   # no such wall time: read anyway


def test_the_cursor_prunes_only_what_the_next_bound_cannot_read():
    cur = CaptureCursor()
    cur.add(1, epoch(FIRST_PASS) - 3000)
    cur.add(2, epoch(FIRST_PASS) + 60)
    cur.prune(60, LA)                  # next bound reads from an hour before (first pass): both kept
    assert cur.emitted(1, epoch(FIRST_PASS) - 3000) and cur.emitted(2, epoch(FIRST_PASS) + 60)
    cur.add(3, epoch(SECOND_PASS) + 3600)
    cur.prune(60, LA)
    assert not cur.emitted(1, epoch(FIRST_PASS) - 3000) and cur.emitted(3, epoch(SECOND_PASS) + 3600)
    assert CaptureCursor.load(cur.dump(), None) == cur


def test_an_edit_in_the_second_pass_gets_a_newer_position_than_one_in_the_first(make_pair, gateway):
    clock = Clock(FIRST_PASS + timedelta(minutes=20))                 # 01:50 PDT
    cap = IntacctCapture(make_pair().erp, pair_id="p", gateway=gateway, now=clock)
    item(gateway, 1, "A", FIRST_PASS + timedelta(minutes=15))          # 01:45 PDT
    [first], cursor = drain(cap, "item")
    clock.t = (SECOND_PASS - timedelta(minutes=10)).timestamp()        # 01:20 PST
    item(gateway, 1, "A", SECOND_PASS - timedelta(minutes=15), NAME="later")   # 01:15 PST: wall time "earlier"
    [second], cursor = drain(cap, "item", cursor)
    # the previous read began 01:50 PDT: 01:49 is in the repeated hour, so the bound moves an hour back
    assert gateway.calls[-1]["query"] == "WHENMODIFIED >= '11/01/2026 00:49:00'"
    assert second.listing["position"] > first.listing["position"]
    assert second.occurred_at == SECOND_PASS - timedelta(minutes=15)
    assert to_literal(epoch(second.occurred_at), LA) == "11/01/2026 01:15:00"


def test_a_second_edit_within_the_same_second_is_not_a_repeat():
    """Same RECORDNO and stamp, other fields: emitted again with n = 1 (a later position)."""
    cur = CaptureCursor()
    assert cur.add(7, 1_700_000_000, "aaaa") == 0
    assert cur.emitted(7, 1_700_000_000, "aaaa") and not cur.emitted(7, 1_700_000_000, "bbbb")
    assert cur.add(7, 1_700_000_000, "bbbb") == 1
    again = CaptureCursor.load(cur.dump(), None)
    assert again.emitted(7, 1_700_000_000, "bbbb") and again.add(7, 1_700_000_000, "bbbb") == 1
    old = CaptureCursor.load('{"wm":1,"read":null,"seen":{"1700000000":[7]}}', None)   # before digests
    assert old.emitted(7, 1_700_000_000, "cccc")
