"""The admin's "Going live" page: whether each site's numbers may reach people yet, checked
by the same code as ``hotline-bridge twilio check`` (``ops.golive``: webhooks and fallbacks
against the line's PUBLIC_URL, carrier registration, what Twilio keeps), what to do next and
what to confirm by hand, and the registration text to copy, built from the line as
``hotline-bridge twilio register`` builds it.

Reading only: the page changes nothing at Twilio and nothing here (submitting is the command's
work, with the organisation's details from the settings). Twilio's answers are kept for a few
minutes (a dozen requests, a few seconds each time), with a link to ask again at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, render_template, request

from hotline_bridge.console import store
from hotline_bridge.console.access import admin_only, db, now, require_site, words
from hotline_bridge.console.blueprint import bp
from hotline_bridge.directory.models import Site, get_site
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE, Catalogs
from hotline_bridge.ops import golive, registration, submission
from hotline_bridge.ops.twilio import TwilioSetupError
from hotline_bridge.runtime import runtime


@dataclass(frozen=True)
class Checked:
    """What Twilio says about a site's numbers, or why it could not be asked."""

    report: golive.Report = field(default_factory=golive.Report)
    error: str | None = None
    asked: bool = True
    at: dt.datetime | None = None


# How long Twilio's answers for a site are shown again without asking; and where they are kept.
KEEP_ANSWERS = dt.timedelta(minutes=5)
ANSWERS = "hotline_bridge.golive_answers"


def checked(site: Site, at: dt.datetime, again: bool = False) -> Checked:
    """Return what Twilio said about ``site`` less than ``KEEP_ANSWERS`` before ``at``, else
    ask it now (``again`` asks now whatever was kept). A refusal is never kept."""
    kept: dict[tuple[object, ...], Checked] = current_app.extensions.setdefault(ANSWERS, {})
    key = (site.id, tuple(site.numbers), current_app.config["PUBLIC_URL"])
    found = kept.get(key)
    if not again and found is not None and found.at and at - found.at < KEEP_ANSWERS:
        return found
    fresh = check(site)
    fresh = Checked(fresh.report, fresh.error, fresh.asked, at)
    if fresh.asked and fresh.error is None:
        kept[key] = fresh
    else:
        kept.pop(key, None)
    return fresh


def check(site: Site) -> Checked:
    """Check the site's numbers as ``twilio check`` does, against the line's PUBLIC_URL (not
    at all without a Twilio account)."""
    app = current_app
    twilio = golive.client(app)
    if twilio is None:
        return Checked(asked=False)
    try:
        return Checked(golive.check(app, twilio, site.numbers, app.config["PUBLIC_URL"]))
    except TwilioSetupError as exc:
        return Checked(error=str(exc))


def said(report: golive.Report, catalogs: Catalogs, lang: str) -> dict[str, Any]:
    """The report in ``lang``: what to do (differences first), the steps to confirm by hand
    (each Advanced Opt-Out item under its heading) and what is already right."""
    todo = [f.said(catalogs, lang) for f in report.differences + report.problems]
    manual: list[tuple[str, list[str]]] = []
    for finding in report.of("manual"):
        line = finding.said(catalogs, lang)
        if finding.key in OPT_OUT_ITEMS and manual:
            manual[-1][1].append(line)
        else:
            manual.append((line, []))
    done = [f.said(catalogs, lang) for f in report.of("passed")]
    return {"todo": todo, "manual": manual, "done": done}


# The Advanced Opt-Out items, listed under the finding that introduces them.
OPT_OUT_ITEMS = {"optout.keywords", "optout.reply"}


def texts(site: Site) -> dict[str, Any]:
    """The registration text for ``site`` as the command would submit it, in English (what
    Twilio and the carriers read), and the settings still to set before it can be."""
    config, english = current_app.config, runtime().catalogs.bind(DEFAULT_LANGUAGE)
    try:
        line = submission.line_for(current_app, site)
    except submission.Refused as refusal:
        return {"refused": str(refusal)}
    campaign = any(registration.kind_of(n) == "long_code" for n in site.numbers)
    missing = submission.organisation_problems(config, campaign=campaign)
    return {
        "description": submission.description(english, line),
        "flow": submission.message_flow(english, line, line.number),
        "samples": submission.additional(english, line),
        "privacy": line.privacy_url,
        "image": line.image_url,
        "missing": [problem.split(":", 1)[0] for problem in missing],
    }


@bp.get("/going-live")
@admin_only
def going_live() -> str:
    """Show a site's registration, what to do next, and the text to copy."""
    sites = [row["id"] for row in db().query("select id from sites order by id")]
    chosen = request.args.get("site") or next(
        (s for s in sites if (found := get_site(db(), s)) and found.numbers), None
    )
    site = get_site(db(), require_site(chosen)) if chosen else None
    bound = words()
    context: dict[str, Any] = {"sites": sites, "site": site}
    if site is not None and site.numbers:
        answer = checked(site, now(), again=request.args.get("again") == "1")
        context.update(
            said(answer.report, bound.catalogs, bound.lang),
            numbers=[(n, registration.kind_of(n)) for n in site.numbers],
            asked=answer.asked,
            error=answer.error,
            asked_at=store.stamp(answer.at) if answer.at else None,
            base_url=current_app.config["PUBLIC_URL"],
            text=texts(site),
        )
    return render_template("console/golive.html", **context)
