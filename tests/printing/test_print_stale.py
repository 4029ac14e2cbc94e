"""A national number not checked for 180 days is not printed until the deployment confirms it
again (the reference README's rule), and the day is the caller's, not the machine's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline_bridge.directory import national
from hotline_bridge.printing import PrintRefused, Request, print_pdf
from tests.printing.test_print import HOTLINE_LINE, add_sites, pages_text

# The days the project's reference checked the 24/7 line and 911 (both are printed), the last
# day neither is stale, and the first day both are.
CHECKED = national.by_id()["nhth"].checked
OLDEST = min(CHECKED, national.by_id()["emergency"].checked)
LAST_FRESH = OLDEST + dt.timedelta(days=national.STALE_AFTER_DAYS)
BOTH_STALE = max(CHECKED, OLDEST) + dt.timedelta(days=national.STALE_AFTER_DAYS + 1)


def test_a_line_checked_180_days_ago_still_prints(make_app: Any) -> None:
    app = make_app()
    add_sites(app)
    document = print_pdf(app, Request("riverside", "wallet", "en"), LAST_FRESH)
    assert HOTLINE_LINE["en"] in pages_text(document)[1]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_line_not_checked_for_over_180_days_is_refused(make_app: Any, lang: str) -> None:
    app = make_app()
    add_sites(app)
    with pytest.raises(PrintRefused) as caught:
        print_pdf(app, Request("riverside", "sticker", lang), BOTH_STALE)
    refused = caught.value
    assert refused.key == "print.refused.stale"
    assert f"line nhth (1-888-373-7888) was last checked on {CHECKED}, more than 180 days" in str(
        refused
    )
    assert f"se verificó por última vez el {CHECKED}" in refused.text("es")


def test_a_fresh_confirmation_makes_a_stale_line_printable_again(make_app: Any) -> None:
    later = BOTH_STALE + dt.timedelta(days=30)
    confirmed = later - dt.timedelta(days=2)
    app = make_app()
    app.config["CONFIRMED_LINES"] = national.parse_confirmations(
        f"nhth@{confirmed},emergency@{confirmed}"
    )
    add_sites(app)
    document = print_pdf(app, Request("riverside", "wallet", "en"), later)
    assert HOTLINE_LINE["en"] in pages_text(document)[1]
