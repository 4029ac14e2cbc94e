"""``hotline-bridge twilio connect`` and ``twilio check``: the line's Twilio numbers, wired here.

``connect`` points every site's numbers (or the ``--number`` given) at this server, deploys the
static bilingual fallback to Twilio Serverless and points the numbers' fallback URLs at it, and
says what Advanced Opt-Out must hold; ``--dry-run`` only prints the changes. ``check`` runs
``ops.golive.check``, the check the console's Going live page shows too: the live configuration
against the same plan, each number's carrier registration, and what Twilio keeps of people; it
exits non-zero on any difference or problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from twilio.rest import Client

from hotline_bridge.directory.models import get_site, site_for_number
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import DEFAULT_LANGUAGE
from hotline_bridge.ops import golive, registration, submission
from hotline_bridge.ops import twilio as wiring_ops
from hotline_bridge.ops.findings import Finding
from hotline_bridge.runtime import KEYWORDS_FILE, runtime
from hotline_bridge.settings import resolve_path

base_url_option = click.option(
    "--base-url",
    help="This server's public https address, as Twilio reaches it (https://line.example.org); "
    "default: HOTLINE_BRIDGE_PUBLIC_URL.",
)
number_option = click.option(
    "--number",
    "numbers",
    multiple=True,
    help="Only this Twilio number or short code (repeatable); default: every site's numbers.",
)
T = TypeVar("T")


def _base_url(given: str | None) -> str:
    base = given or current_app.config["PUBLIC_URL"]
    if not base:
        raise click.BadParameter(
            "give it, or set HOTLINE_BRIDGE_PUBLIC_URL", param_hint="--base-url"
        )
    if not golive.usable(base):
        raise click.BadParameter("must start with https://", param_hint="--base-url")
    return str(base).rstrip("/")


def _numbers(given: tuple[str, ...]) -> tuple[str, ...]:
    chosen = given or golive.site_numbers(current_app)
    if not chosen:
        raise click.ClickException("no numbers: import the sites' numbers or give --number")
    return chosen


def _client() -> Client:
    found = golive.client(current_app)
    if found is None:
        raise click.ClickException("set HOTLINE_BRIDGE_TWILIO_ACCOUNT_SID (and the auth token)")
    return found


def _run(work: Callable[[], T]) -> T:
    try:
        return work()
    except wiring_ops.TwilioSetupError as exc:
        raise click.ClickException(str(exc)) from None


def _say(label: str, finding: Finding) -> None:
    click.echo(f"{label}: {finding.said(runtime().catalogs, DEFAULT_LANGUAGE)}")


# How each kind of finding is labelled on the command line.
_LABELS = {"problem": "problem", "manual": "by hand", "passed": "ok"}


@click.group("twilio")
def twilio_group() -> None:
    """Wire the line's Twilio numbers to this server, and check that they stay wired."""


@twilio_group.command("connect")
@base_url_option
@number_option
@click.option("--dry-run", is_flag=True, help="Print every change; change nothing.")
@with_appcontext
def connect_command(base_url: str | None, numbers: tuple[str, ...], dry_run: bool) -> None:
    """Set each number's Messaging and Voice webhooks, status callback and fallback URLs, and
    deploy the static bilingual fallback to Twilio Serverless (protected assets)."""
    app, chosen = current_app, _numbers(numbers)
    wiring = golive.wiring(app, _base_url(base_url), chosen)
    keywords, client, replies = resolve_path(KEYWORDS_FILE), _client(), golive.replies(app, chosen)
    plan = _run(lambda: wiring_ops.connect(client, wiring, keywords, replies, click.echo, dry_run))
    for finding in plan.problems + plan.manual:
        _say(_LABELS[finding.state], finding)
    if not plan.changes:
        click.echo("Nothing to change: every number is wired as it should be.")
    if plan.problems:
        raise click.ClickException(f"{len(plan.problems)} problem(s) need attention")


@twilio_group.command("check")
@base_url_option
@number_option
@with_appcontext
def check_command(base_url: str | None, numbers: tuple[str, ...]) -> None:
    """Compare the live Twilio configuration with what connect sets, say where each number's
    carrier registration stands and what Twilio keeps of people; fail on any difference or
    problem. What Twilio's API does not show is listed as a step to confirm by hand."""
    base, chosen, client = _base_url(base_url), _numbers(numbers), _client()
    report = _run(lambda: golive.check(current_app, client, chosen, base))
    for finding in report.differences:
        _say("difference", finding)
    for state in ("problem", "manual", "passed"):
        for finding in report.of(state):
            _say(_LABELS[state], finding)
    if report.failed:
        raise click.ClickException(
            f"{len(report.differences)} difference(s), {len(report.problems)} problem(s); "
            "run 'hotline-bridge twilio connect' to fix the differences"
        )
    manual = [f for f in report.of("manual") if f.key != "optout.intro"]
    click.echo(
        f"Twilio check passed for what Twilio's API shows: {len(chosen)} number(s) wired to "
        f"{base}; {len(manual)} item(s) above to confirm by hand in the Twilio console"
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
    chosen = _numbers(numbers)
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
    with open_db(current_app) as db:
        site = get_site(db, site_id) if site_id else site_for_number(db, numbers[0])
    if site is None:
        raise click.BadParameter(f"no site {site_id!r}", param_hint="--site")
    try:
        return submission.line_for(current_app, site)
    except submission.Refused as refusal:
        raise click.ClickException(str(refusal)) from None


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
