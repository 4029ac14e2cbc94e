"""The admin's "Going live" page: whether each site's numbers may reach people yet, read from
Twilio as ``hotline-bridge twilio check`` reads it, what to do next, and the registration text
to copy, built from the line as ``hotline-bridge twilio register`` builds it.

Reading only: the page changes nothing at Twilio and nothing here (submitting is the command's
work, with the organisation's details from the settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request
from twilio.rest import Client

from hotline_bridge.console.access import admin_only, db, require_site, words
from hotline_bridge.console.blueprint import bp
from hotline_bridge.directory.models import Site, get_site
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE
from hotline_bridge.ops import registration, submission
from hotline_bridge.ops.twilio import TwilioSetupError
from hotline_bridge.runtime import runtime


@dataclass(frozen=True)
class Checked:
    """What Twilio says about a site's numbers: the findings, or why it could not be asked."""

    findings: list[registration.Finding]
    error: str | None = None
    asked: bool = True


def check(site: Site) -> Checked:
    """Read the site's numbers' registration from Twilio (not at all without an account)."""
    config = current_app.config
    if not config["TWILIO_ACCOUNT_SID"] or not config["TWILIO_AUTH_TOKEN"]:
        return Checked([], asked=False)
    client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])
    try:
        found = registration.check(
            client,
            site.numbers,
            config["TWILIO_MESSAGING_SERVICE_SID"],
            config["TWILIO_BRAND_SID"],
        )
    except TwilioSetupError as exc:
        return Checked([], error=str(exc))
    return Checked(found)


def texts(site: Site) -> dict[str, Any]:
    """The registration text for ``site`` as the command would submit it, in English (what
    Twilio and the carriers read), and the settings still to set before it can be."""
    config, rt = current_app.config, runtime()
    try:
        number, keywords = submission.card_keywords(current_app, site)
    except submission.Refused as refusal:
        return {"refused": str(refusal)}
    line = submission.Line(
        site=site,
        number=number,
        keywords=keywords,
        samples=submission.samples(current_app, site, number, keywords),
        words=submission.line_words(rt),
        public_url=config["PUBLIC_URL"] or "https://(HOTLINE_BRIDGE_PUBLIC_URL)",
        config=config,
    )
    english = rt.catalogs.bind(DEFAULT_LANGUAGE)
    campaign = any(registration.kind_of(n) == "long_code" for n in site.numbers)
    missing = submission.organisation_problems(config, campaign=campaign)
    return {
        "description": submission.description(english, line),
        "flow": submission.message_flow(english, line, number),
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
        checked = check(site)
        said = [(f.problem, f.said(bound.catalogs, bound.lang)) for f in checked.findings]
        context.update(
            numbers=[(n, registration.kind_of(n)) for n in site.numbers],
            asked=checked.asked,
            error=checked.error,
            todo=[line for problem, line in said if problem],
            done=[line for problem, line in said if not problem],
            text=texts(site),
        )
    return render_template("console/golive.html", **context)
