"""Everything checked before the line goes live, for ``hotline-bridge twilio check`` and the
console's Going live page alike, so both say the same things from the same code.

The check compares the numbers' and the Messaging Service's webhooks and fallbacks with what
``twilio connect`` sets for a base address (``ops.twilio``), reads each number's carrier
registration (``ops.registration``), and what Twilio keeps of people: Conversational
Intelligence transcripts, read from the API, and Message Redaction and Advanced Opt-Out, which
the API does not expose and so are steps to confirm by hand. Every result is a ``Finding``;
the command says them in English, the console in its reader's language.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import Flask
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge.channels import text
from hotline_bridge.directory.models import site_for_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.ops import registration
from hotline_bridge.ops import twilio as wiring_ops
from hotline_bridge.ops.findings import Finding, bad
from hotline_bridge.runtime import KEYWORDS_FILE, Runtime
from hotline_bridge.settings import resolve_path


@dataclass
class Report:
    """What the check found: the differences ``twilio connect`` would set right, then every
    other finding (problems, steps to confirm by hand, what is right), each said once."""

    differences: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def of(self, state: str) -> list[Finding]:
        """Return the findings (not the differences) in ``state``: problem, manual, passed."""
        return [f for f in self.findings if f.state == state]

    @property
    def problems(self) -> list[Finding]:
        return self.of("problem")

    @property
    def failed(self) -> bool:
        """Whether anything stops the line going live (steps by hand do not count)."""
        return bool(self.differences or self.problems)


def _runtime(app: Flask) -> Runtime:
    return app.extensions["hotline_bridge"]


def site_numbers(app: Flask) -> tuple[str, ...]:
    """Return every site's numbers, each once."""
    with open_db(app) as db:
        rows = db.execute("select numbers from sites where numbers is not null").fetchall()
    return tuple(sorted({n for (raw,) in rows if raw for n in json.loads(raw)}))


def fallback_documents(app: Flask) -> dict[str, str]:
    """Return the static fail-safe answers as TwiML, for the fallback Twilio hosts."""
    from hotline_bridge.channels.voice.routes import fail_safe_twiml

    sms = MessagingResponse()
    sms.message(_runtime(app).failsafe.text(None))
    return {"sms": str(sms), "voice": str(fail_safe_twiml(None))}


def replies(app: Flask, numbers: Sequence[str]) -> dict[str, dict[str, str]]:
    """What this line answers to STOP, START and HELP in each language, for Advanced Opt-Out:
    in the words of the site the wired ``numbers`` lead to (the default site's when they lead
    to several, since a Messaging Service holds one reply per keyword)."""
    rt = _runtime(app)
    with open_db(app) as db:
        sites = {site.id: site for site in (site_for_number(db, n) for n in numbers)}
        site = next(iter(sites.values())) if len(sites) == 1 else site_for_number(db, None)
        return {
            meaning: {
                lang: text.compliance(
                    rt.catalogs.bind(lang), "sms", site, rt.failsafe.hotline_phone, meaning
                )
                for lang in rt.catalogs.languages
            }
            for meaning in ("stop", "start", "help")
        }


def wiring(app: Flask, base_url: str, numbers: Sequence[str]) -> wiring_ops.Wiring:
    """Return what ``numbers`` should be wired to at ``base_url`` (an https address)."""
    config = app.config
    return wiring_ops.Wiring(
        base_url=base_url.rstrip("/"),
        numbers=tuple(numbers),
        documents=fallback_documents(app),
        messaging_service=config["TWILIO_MESSAGING_SERVICE_SID"],
        opt_out_by_twilio=config["SMS_OPT_OUT_BY_TWILIO"],
    )


def client(app: Flask) -> Client | None:
    """Return a Twilio client for the line's account, or None when it is not set."""
    config = app.config
    if not config["TWILIO_ACCOUNT_SID"] or not config["TWILIO_AUTH_TOKEN"]:
        return None
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])


def usable(base_url: str | None) -> bool:
    """Whether ``base_url`` can be compared with the numbers' webhooks (Twilio posts to https)."""
    return bool(base_url) and str(base_url).startswith("https://")


def check(app: Flask, twilio: Client, numbers: Sequence[str], base_url: str | None) -> Report:
    """Check ``numbers`` against the line at ``base_url`` (its wiring is not compared without
    an https address, which is then a problem); raise ``wiring_ops.TwilioSetupError`` when
    Twilio refuses a request."""
    config, report = app.config, Report()
    found: list[Finding] = []
    if base_url and usable(base_url):
        wired = wiring(app, base_url, numbers)
        keywords = resolve_path(KEYWORDS_FILE)
        plan = wiring_ops.make_plan(twilio, wired, keywords, replies(app, numbers))
        report.differences = [change.finding for change in plan.changes]
        found += plan.problems + plan.manual
    else:
        found.append(bad("wiring.no_base_url"))
    found += registration.check(
        twilio, numbers, config["TWILIO_MESSAGING_SERVICE_SID"], config["TWILIO_BRAND_SID"]
    )
    found += registration.transcripts(twilio)
    found += registration.redaction()
    # A number outside the account or the service is found by both parts: say it once.
    seen = {_said(f) for f in report.differences}
    for finding in found:
        if _said(finding) not in seen:
            seen.add(_said(finding))
            report.findings.append(finding)
    return report


def _said(finding: Finding) -> tuple[str, tuple[tuple[str, str], ...]]:
    return finding.key, tuple(sorted(finding.values.items()))
