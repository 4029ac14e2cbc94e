"""``hotline-bridge twilio connect`` and ``twilio check``: the line's Twilio numbers, wired here.

``connect`` points every site's numbers (or the ``--number`` given) at this server, deploys the
static bilingual fallback to Twilio Serverless and points the numbers' fallback URLs at it, and
says what Advanced Opt-Out must hold; ``--dry-run`` only prints the changes. ``check`` compares
the live configuration with the same plan, reads each number's carrier registration
(``ops.registration``) and exits non-zero on any difference or problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge.channels import text
from hotline_bridge.directory.models import site_for_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE
from hotline_bridge.ops import registration
from hotline_bridge.ops import twilio as wiring_ops
from hotline_bridge.runtime import KEYWORDS_FILE, runtime
from hotline_bridge.settings import resolve_path

base_url_option = click.option(
    "--base-url",
    required=True,
    help="This server's public https address, as Twilio reaches it (https://line.example.org).",
)
number_option = click.option(
    "--number",
    "numbers",
    multiple=True,
    help="Only this Twilio number or short code (repeatable); default: every site's numbers.",
)


def fallback_documents() -> dict[str, str]:
    """Return the static fail-safe answers as TwiML, for the fallback Twilio hosts."""
    from hotline_bridge.channels.voice.routes import fail_safe_twiml

    sms = MessagingResponse()
    sms.message(runtime().failsafe.text(None))
    return {"sms": str(sms), "voice": str(fail_safe_twiml(None))}


def _site_numbers() -> tuple[str, ...]:
    with open_db(current_app) as db:
        rows = db.execute("select numbers from sites where numbers is not null").fetchall()
    found = {n for (raw,) in rows if raw for n in json.loads(raw)}
    return tuple(sorted(found))


def _replies(numbers: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """What this line answers to STOP, START and HELP in each language, for Advanced Opt-Out:
    in the words of the site the wired ``numbers`` lead to (the default site's when they lead
    to several, since a Messaging Service holds one reply per keyword)."""
    rt = runtime()
    with open_db(current_app) as db:
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


def _wiring(base_url: str, numbers: tuple[str, ...]) -> wiring_ops.Wiring:
    if not base_url.startswith("https://"):
        raise click.BadParameter("must start with https://", param_hint="--base-url")
    chosen = numbers or _site_numbers()
    if not chosen:
        raise click.ClickException("no numbers: import the sites' numbers or give --number")
    config = current_app.config
    return wiring_ops.Wiring(
        base_url=base_url.rstrip("/"),
        numbers=chosen,
        documents=fallback_documents(),
        messaging_service=config["TWILIO_MESSAGING_SERVICE_SID"],
        opt_out_by_twilio=config["SMS_OPT_OUT_BY_TWILIO"],
    )


def _client() -> Client:
    config = current_app.config
    if not config["TWILIO_ACCOUNT_SID"]:
        raise click.ClickException("set HOTLINE_BRIDGE_TWILIO_ACCOUNT_SID (and the auth token)")
    return Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"])


def _run(work: Callable[[], wiring_ops.Plan]) -> wiring_ops.Plan:
    try:
        return work()
    except wiring_ops.TwilioSetupError as exc:
        raise click.ClickException(str(exc)) from None


def _report(plan: wiring_ops.Plan) -> None:
    for problem in plan.problems:
        click.echo(f"problem: {problem}")
    for line in plan.manual:
        click.echo(line)


def report_registration(client: Client, numbers: tuple[str, ...]) -> int:
    """Print where each number's carrier registration stands, one line each; return how many
    of them are problems."""
    config, catalogs = current_app.config, runtime().catalogs
    found = _run_checks(
        lambda: registration.check(
            client, numbers, config["TWILIO_MESSAGING_SERVICE_SID"], config["TWILIO_BRAND_SID"]
        )
    )
    for finding in found:
        label = "problem" if finding.problem else "registered"
        click.echo(f"{label}: {finding.said(catalogs, DEFAULT_LANGUAGE)}")
    return sum(1 for finding in found if finding.problem)


def _run_checks(work: Callable[[], list[registration.Finding]]) -> list[registration.Finding]:
    try:
        return work()
    except wiring_ops.TwilioSetupError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("twilio")
def twilio_group() -> None:
    """Wire the line's Twilio numbers to this server, and check that they stay wired."""


@twilio_group.command("connect")
@base_url_option
@number_option
@click.option("--dry-run", is_flag=True, help="Print every change; change nothing.")
@with_appcontext
def connect_command(base_url: str, numbers: tuple[str, ...], dry_run: bool) -> None:
    """Set each number's Messaging and Voice webhooks, status callback and fallback URLs, and
    deploy the static bilingual fallback to Twilio Serverless (protected assets)."""
    wiring, keywords = _wiring(base_url, numbers), resolve_path(KEYWORDS_FILE)
    client, replies = _client(), _replies(wiring.numbers)
    plan = _run(lambda: wiring_ops.connect(client, wiring, keywords, replies, click.echo, dry_run))
    _report(plan)
    if not plan.changes:
        click.echo("Nothing to change: every number is wired as it should be.")
    if plan.problems:
        raise click.ClickException(f"{len(plan.problems)} problem(s) need attention")


@twilio_group.command("check")
@base_url_option
@number_option
@with_appcontext
def check_command(base_url: str, numbers: tuple[str, ...]) -> None:
    """Compare the live Twilio configuration with what connect sets, and say where each
    number's carrier registration stands; fail on any difference or problem."""
    wiring, keywords = _wiring(base_url, numbers), resolve_path(KEYWORDS_FILE)
    client, replies = _client(), _replies(wiring.numbers)
    plan: Any = _run(lambda: wiring_ops.make_plan(client, wiring, keywords, replies))
    for change in plan.changes:
        click.echo(f"difference: {change.what}")
    _report(plan)
    unregistered = report_registration(client, wiring.numbers)
    if plan.changes or plan.problems or unregistered:
        raise click.ClickException(
            f"{len(plan.changes)} difference(s), "
            f"{len(plan.problems) + unregistered} problem(s); "
            "run 'hotline-bridge twilio connect' to fix the differences"
        )
    manual = " (confirm the Advanced Opt-Out items above by hand)" if plan.manual else ""
    click.echo(
        f"Twilio check passed: {len(wiring.numbers)} number(s) wired to {wiring.base_url}{manual}"
    )


def init_cli(group: click.Group) -> None:
    """Register the twilio commands."""
    group.add_command(twilio_group)
