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
from hotline_bridge.directory.models import get_site, site_for_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE
from hotline_bridge.ops import registration, submission
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


@twilio_group.command("register")
@number_option
@click.option(
    "--site",
    "site_id",
    help="The site whose printed card is the opt-in image and whose replies are the samples "
    "(default: the site the first number leads to).",
)
@click.option(
    "--volume",
    default=submission.DEFAULT_VOLUME,
    show_default=True,
    help="Messages a month, as Twilio's toll-free form counts them (10, 100, 1,000, 10,000…).",
)
@click.option("--dry-run", is_flag=True, help="Print every submission; send nothing.")
@with_appcontext
def register_command(
    numbers: tuple[str, ...], site_id: str | None, volume: str, dry_run: bool
) -> None:
    """Build the carrier registration from the line itself (use case, sample messages texted
    through the app, opt-in card, HELP and STOP, privacy page) and submit it: a toll-free
    verification per toll-free number, an A2P 10DLC campaign for the Messaging Service's long
    codes. Missing or malformed organisation details are named before anything is sent."""
    chosen = numbers or _site_numbers()
    if not chosen:
        raise click.ClickException("no numbers: import the sites' numbers or give --number")
    config, rt = current_app.config, runtime()
    line = _line(chosen, site_id)
    words = rt.catalogs.bind(DEFAULT_LANGUAGE)
    campaign = any(registration.kind_of(n) == "long_code" for n in chosen)
    drafts = submission.build(words, line, chosen, {}, volume)
    problems = submission.organisation_problems(config, campaign=campaign)
    problems += [p for draft in drafts for p in submission.field_problems(draft)]
    if dry_run or problems:
        for draft in drafts:
            _print_submission(draft)
        _say_short_codes(chosen)
    if problems:
        for problem in problems:
            click.echo(f"refused: {problem}")
        raise click.ClickException(f"{len(problems)} detail(s) to correct; nothing was sent")
    if dry_run:
        click.echo("Dry run: nothing was sent.")
        return
    _submit(_client(), words, line, chosen, volume)


def _line(numbers: tuple[str, ...], site_id: str | None) -> submission.Line:
    """Return what the submissions are built from, texting the line for its samples."""
    config, rt = current_app.config, runtime()
    with open_db(current_app) as db:
        site = get_site(db, site_id) if site_id else site_for_number(db, numbers[0])
    if site is None:
        raise click.BadParameter(f"no site {site_id!r}", param_hint="--site")
    try:
        number, keywords = submission.card_keywords(current_app, site)
    except submission.Refused as refusal:
        raise click.ClickException(str(refusal)) from None
    return submission.Line(
        site=site,
        number=number,
        keywords=keywords,
        samples=submission.samples(current_app, site, number, keywords),
        words=submission.line_words(rt),
        public_url=config["PUBLIC_URL"] or "https://(HOTLINE_BRIDGE_PUBLIC_URL)",
        config=config,
    )


def _submit(
    client: Client, words: Any, line: submission.Line, numbers: tuple[str, ...], volume: str
) -> None:
    def work() -> None:
        toll_free = [n for n in numbers if registration.kind_of(n) == "toll_free"]
        sids = {n: submission.number_sid(client, n) for n in toll_free}
        for made in submission.build(words, line, numbers, sids, volume):
            _print_submission(made)
            held = submission.already(client, made)
            if held:
                click.echo(f"already submitted, not sent again: {made.subject}: {held}")
                continue
            sid, status = submission.send(client, made)
            click.echo(f"submitted: {_KINDS[made.kind]} for {made.subject}: {sid} {status}")

    try:
        work()
    except wiring_ops.TwilioSetupError as exc:
        raise click.ClickException(str(exc)) from None
    _say_short_codes(numbers)


_KINDS = {"toll_free": "toll-free verification", "campaign": "A2P 10DLC campaign"}


def _print_submission(made: submission.Submission) -> None:
    click.echo(f"{_KINDS[made.kind]} for {made.subject}:")
    for name, value in made.fields.items():
        click.echo(f"  {name}: {_shown(value)}")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "(missing)"
    return str(value).replace("\n", "\n    ")


def _say_short_codes(numbers: tuple[str, ...]) -> None:
    for number in numbers:
        if registration.kind_of(number) == "short_code":
            click.echo(
                f"{number}: a short code is registered through Twilio's short code application, "
                "not by this command"
            )


def init_cli(group: click.Group) -> None:
    """Register the twilio commands."""
    group.add_command(twilio_group)
