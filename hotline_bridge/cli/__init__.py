"""The ``hotline-bridge`` command: serve, check, simulate, the catalog cycle and the fallback TwiML.

It is Flask's CLI (``FlaskGroup``) around ``create_app``, so every command sees the same settings
as the server. Commands that must work before the app can start (the catalog cycle) do not load it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Mapping
from importlib import metadata

import click
from flask import Config, Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from twilio.twiml.messaging_response import MessagingResponse

from hotline_bridge import create_app, settings
from hotline_bridge.cli import backup as backup_cli
from hotline_bridge.cli import directory as directory_cli
from hotline_bridge.cli import printing as printing_cli
from hotline_bridge.cli import services as services_cli
from hotline_bridge.cli import staff as staff_cli
from hotline_bridge.cli import twilio as twilio_cli
from hotline_bridge.cli.offline import offline_config
from hotline_bridge.directory.store import SIMULATOR_NUMBER
from hotline_bridge.engine.catalogs import CatalogError, run_babel
from hotline_bridge.engine.danger import DangerError
from hotline_bridge.engine.flow import FlowError
from hotline_bridge.engine.keywords import KeywordError
from hotline_bridge.settings import ConfigError

# What start-up can refuse with; the command prints the message, not a traceback.
STARTUP_ERRORS = (ConfigError, FlowError, CatalogError, KeywordError, DangerError)


def load_app(config: Mapping[str, object] | None = None) -> Flask:
    """Create the app for a command, turning a start-up refusal into a clear message."""
    try:
        return create_app(config)
    except STARTUP_ERRORS as exc:
        raise click.ClickException(f"cannot start: {exc}") from None


class Group(FlaskGroup):
    """Flask's command group, whose help lists our commands even when the app cannot start
    (settings missing): Flask would print a traceback before the help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except Exception:  # the app's own commands (Flask's routes, shell) are left out
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)


def _version() -> str:
    try:
        return metadata.version("hotline-bridge")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


@click.group(cls=Group, create_app=load_app, add_default_commands=True, add_version_option=False)
@click.version_option(
    _version(), "--version", prog_name="hotline-bridge", message="%(prog)s %(version)s"
)
def main() -> None:
    """hotline-bridge: a discreet, bilingual SMS, voice and kiosk line to a 24/7 hotline."""


# Gunicorn's settings for every deployment (timeouts, logging, metrics); see deploy/README.md.
GUNICORN_CONFIG = settings.PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


@main.command(with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, help="Gunicorn worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn (timeouts well under Twilio's 15-second limit).

    This process becomes gunicorn, so stopping it by its PID (or by systemd) stops the server.
    """
    app = load_app()  # fail here, with a clear message, rather than in every worker
    env = os.environ.copy()
    if app.config["LOCAL"]:
        # Every worker must sign conversation cookies with the same generated key.
        for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN"):
            env.setdefault(f"{settings.ENV_PREFIX}_{name}", app.config[name])
    argv = [
        *(sys.executable, "-m", "gunicorn", "hotline_bridge.wsgi:app"),
        *("--config", str(GUNICORN_CONFIG)),
        *("--bind", f"{host}:{port}", "--workers", str(workers)),
    ]
    click.echo(f"Serving on http://{host}:{port} (kiosk: http://{host}:{port}/kiosk)")
    _first_account_link(app, f"http://{host}:{port}")
    sys.stdout.flush()
    # Replacing this process (rather than running gunicorn as a child) means a signal sent to
    # the PID that was started reaches gunicorn's master, which stops its workers and the port.
    os.execve(sys.executable, argv, env)


def _first_account_link(app: Flask, served_at: str) -> None:
    """While no staff account exists, print the one-time link that sets up the first admin
    (its token is stored only as a hash; starting again prints a new one and ends the old)."""
    from hotline_bridge.console import accounts, links
    from hotline_bridge.directory.store import open_db

    with open_db(app) as db:
        token = links.first_admin_link(db, dt.datetime.now(dt.UTC))
    if token:
        base = app.config.get("PUBLIC_URL") or served_at
        click.echo(accounts.first_admin_line(str(base), token, links.FIRST_ADMIN_VALID))


@main.command("settings", with_appcontext=False)
@click.option("--defaults", is_flag=True, help="List every setting with its default and help.")
@click.option("--markdown", is_flag=True, help="Print the defaults as a Markdown table (README).")
def show_settings(defaults: bool, markdown: bool) -> None:
    """Show every setting's value in effect here (secrets masked) and where it came from."""
    if markdown or defaults:
        _describe_settings(markdown)
        return
    config = Config(str(settings.PROJECT_ROOT))
    config.from_prefixed_env(prefix=settings.ENV_PREFIX)
    rows = settings.effective(config)
    for row in rows:
        problem = f"   INVALID: {row['problem']}" if row["problem"] else ""
        click.echo(f"{row['variable']} = {row['value']}   ({row['source']}){problem}")
    if any(row["problem"] for row in rows):
        raise click.ClickException("some settings are invalid")
    try:  # what the server checks at its start too: the secrets it needs, together
        settings.load(config)
    except ConfigError as exc:
        raise click.ClickException(f"the server would not start: {exc}") from None


def _describe_settings(markdown: bool) -> None:
    if markdown:
        click.echo("| Variable | Default | What it does |\n| --- | --- | --- |")
    for row in settings.describe():
        if markdown:
            click.echo(f"| `{row['variable']}` | `{row['default']}` | {row['help']} |")
        else:
            click.echo(f"{row['variable']} (default: {row['default']})\n    {row['help']}")


@main.group()
def i18n() -> None:
    """The gettext catalog cycle: extract keys, update both catalogs, compile them."""


@i18n.command(with_appcontext=False)
def extract() -> None:
    """Collect every message key from code, flows and templates into locales/messages.pot."""
    run_babel(settings.PROJECT_ROOT, "extract")


@i18n.command(with_appcontext=False)
def update() -> None:
    """Add new keys from messages.pot to both catalogs (new entries need wording)."""
    run_babel(settings.PROJECT_ROOT, "update")


@i18n.command("compile", with_appcontext=False)
def compile_catalogs() -> None:
    """Compile both catalogs to the .mo files the app loads."""
    run_babel(settings.PROJECT_ROOT, "compile")


@main.command("fallback-twiml")
@click.option("--channel", type=click.Choice(["sms", "voice"]), default="sms", show_default=True)
@with_appcontext
def fallback_twiml(channel: str) -> None:
    """Print the static fail-safe answer as TwiML: what 'twilio connect' hosts on Twilio as the
    numbers' fallback, so it answers even when this server is down."""
    rt = current_app.extensions["hotline_bridge"]
    if channel == "sms":
        twiml = MessagingResponse()
        twiml.message(rt.failsafe.text(None))
        click.echo(str(twiml))
        return
    from hotline_bridge.channels.voice.routes import fail_safe_twiml

    click.echo(str(fail_safe_twiml(None)))


@main.group()
def simulate() -> None:
    """Try a channel in the terminal, through the real webhooks with signed requests."""


@main.command(with_appcontext=False)
@click.option("--quiet", is_flag=True, help="Print only problems and the summary.")
@click.option(
    "--signals",
    is_flag=True,
    help="Also measure flows/danger.toml on the labelled messages in flows/danger-examples/: "
    "recall and false alarms per set and language.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Also walk random SMS conversations with the demo directory that make run loads (in a "
    "temporary database) and fail over the segment budget.",
)
def check(quiet: bool, signals: bool, demo: bool) -> None:
    """Validate the flow, both catalogs and the danger words, list every SMS reply with its
    encoding and segment count, walk random SMS conversations, and fail on a missing or fuzzy
    translation, a sensitive word on a first-contact surface, or a reply over budget."""
    from hotline_bridge.checks import run_checks

    # The checks read content and sign their own in-process requests, so they need no
    # production secrets: any that are not set are made up for this run.
    report = run_checks(load_app(offline_config()), dt.date.today(), signals=signals, demo=demo)
    for line in report.lines:
        if not quiet or line.startswith("FAIL") or not line.startswith("sms "):
            click.echo(line)
    if report.failed:
        raise click.ClickException("check failed")
    click.echo("check passed")


# The line's number a simulator texts or calls, as the webhook's To: it chooses the site.
line_option = click.option(
    "--to",
    default=SIMULATOR_NUMBER,
    show_default=True,
    help="The line's number texted or called (the webhook's To: it chooses the site).",
)


@simulate.command("sms")
@line_option
@with_appcontext
def simulate_sms(to: str) -> None:
    """Text the SMS line from the terminal; each reply shows its encoding and segments."""
    from hotline_bridge.channels.sms.simulator import run_sms

    run_sms(current_app, lambda: input("you> "), click.echo, to)


@simulate.command("voice")
@line_option
@with_appcontext
def simulate_voice(to: str) -> None:
    """Call the voice line in the terminal: hear what is said, in which language and voice, and
    answer with keys, words or silence."""
    from hotline_bridge.channels.voice.simulator import Phone, run_call

    phone = Phone(current_app, to=to, dry_run=True)

    def ask(prompt: str) -> str:
        return click.prompt(prompt, default="", show_default=False, prompt_suffix="> ")

    try:
        run_call(phone, ask, click.echo)
    except click.Abort:
        click.echo("  (you hung up)")


directory_cli.init_cli(main)
services_cli.init_cli(main)
backup_cli.init_cli(main)
twilio_cli.init_cli(main)
main.add_command(printing_cli.print_command)
staff_cli.init_cli(main)


if __name__ == "__main__":
    main()


@main.command()
@click.option("--day", default=None, help="Only this day (YYYY-MM-DD, UTC); default every day.")
@click.option(
    "--database",
    "databases",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Add up the counts of this database file (repeat it, one per server, e.g. copies "
    "made with 'backup'); default: this server's database.",
)
@with_appcontext
def counts(day: str | None, databases: tuple[str, ...]) -> None:
    """Show the anonymous per-day usage counts: channel, language, step and how many times."""
    from hotline_bridge.counters import combined

    rows = combined(list(databases) or [current_app.config["DATABASE"]], day)
    if not rows:
        click.echo("No counts yet.")
    for row in rows:
        click.echo(
            f"{row['day']}  {row['channel']:6} {row['language']:7} {row['n']:6}  {row['event']}"
        )
