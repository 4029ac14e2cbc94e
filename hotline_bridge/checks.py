"""``hotline-bridge check``: the content checks a deployment must pass before it serves anyone.

It proves that both catalogs translate every key in use (nothing missing, empty or fuzzy), that
no first-contact surface uses a sensitive word, and that every SMS reply the flow can produce stays
within the segment budget. The voice line adds its own path checks.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import sqlite_utils
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import Flask

from hotline_bridge.channels import text as text_channel
from hotline_bridge.channels.sms import callback
from hotline_bridge.channels.sms import render as sms_render
from hotline_bridge.channels.sms import walk as sms_walk
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.channels.voice.check import voice_problems
from hotline_bridge.console.store import waiting_changes
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory import national
from hotline_bridge.directory.models import Site, as_service, display_number, get_site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import open_db, with_texts
from hotline_bridge.directory.validation import exit_url_problem, raw_problems
from hotline_bridge.engine.catalogs import BABEL_CONFIG, EXTRACT_KEYWORDS, Words, audit
from hotline_bridge.engine.conversation import Outcome, State, emergency_node
from hotline_bridge.engine.danger import measure_all, problems_in
from hotline_bridge.engine.screen import Notice, Screen
from hotline_bridge.engine.walk import reachable, with_notice
from hotline_bridge.runtime import DANGER_FILE, Runtime
from hotline_bridge.settings import PROJECT_ROOT, SETTINGS, resolve_path


@dataclass(frozen=True)
class Reply:
    """One SMS reply the line can send: what produces it, its language and its text."""

    label: str
    lang: str
    text: str
    first_contact: bool = False
    budget: int = MAX_SEGMENTS


# Segments a confirmation of DELETE may take: it is short, and it is sent after a request that
# may come from someone in a hurry.
CONFIRMATION_SEGMENTS = 2


def _rt(app: Flask) -> Runtime:
    return app.extensions["hotline_bridge"]


# The ZIP code ZIP replies are rendered with when a site names none: the check is about the
# length of replies, so any ZIP code the offline table knows will do; and one it does not know.
SAMPLE_ZIP = "02139"
UNKNOWN_ZIP = "00000"
# The number a reply of "Reply CALL" names when a site has none that can call (only its length
# matters here).
SAMPLE_LINE = "+12025550123"


def _outcome(screen: Screen, lang: str, compliance: str | None = None) -> Outcome:
    return Outcome(State(lang, screen.position.encode()), "", lang, screen, compliance)


def _site_replies(
    db: sqlite_utils.Database, rt: Runtime, site: Site, words: Words, now: dt.datetime
) -> Iterator[Reply]:
    """Yield every SMS reply the site's line can send in one language: each reachable screen,
    as shown and after a choice that was not understood, and the compliance replies."""
    flow, lang = rt.flow, words.lang
    directory = SiteDirectory(db, site, now, rt.discreet)
    codes = (site.zip or SAMPLE_ZIP, UNKNOWN_ZIP)
    hotline = rt.failsafe.hotline_phone
    start: Screen | None = None
    emergency: Screen | None = None
    caps = sms_render.capabilities(rt.catalogs, flow, site)
    for screen in reachable(flow, lang, directory, caps, codes):
        where = f"{site.id}/{screen.position.encode()}"
        first = screen.position.node == flow.start
        start = screen if first else start
        if screen.position.node == emergency_node(flow) and not screen.position.page:
            emergency = screen
        written = sms_render.render(words, flow, site, _outcome(screen, lang), hotline) or ""
        yield Reply(where, lang, written, first)
        if screen.position.node == flow.talk_node and screen.service is not None:
            line = callback.line_number(site, "") or SAMPLE_LINE
            offered = callback.with_offer(words, written, screen.service.label(lang), line)
            yield Reply(f"{where} (offering CALL)", lang, offered)
        # Repeated after a reply it could not use, under the longest notice that says so.
        unknown = with_notice(screen, text_channel.longest_notice(words, sms_render.CHANNEL))
        text = sms_render.render(words, flow, site, _outcome(unknown, lang), hotline) or ""
        yield Reply(f"{where} (not understood)", lang, text)
    calm = Notice(
        "notice.signal",
        {"phone": display_number(hotline), "emergency": rt.failsafe.emergency_phone},
    )
    # A first message that suggests danger: the calm line, then the menu; 911 or EMERGENCY:
    # the calm line, then the emergency screen.
    for shown, label in ((start, "danger"), (emergency, "911")):
        if shown is not None:
            opened = replace(shown, notices=(calm, *shown.notices))
            text = sms_render.render(words, flow, site, _outcome(opened, lang), hotline) or ""
            yield Reply(f"{site.id}/{shown.position.node} ({label})", lang, text, True)
    for meaning in ("help", "stop", "start"):
        outcome = (
            _outcome(start, lang, meaning) if start else Outcome(State(), "", lang, None, meaning)
        )
        text = sms_render.render(words, flow, site, outcome, hotline) or ""
        yield Reply(meaning.upper(), lang, text, True)
    phone = display_number(hotline)
    for key, text in (
        ("DELETE", words.pick(sms_render.CHANNEL, "delete.done", phone=phone)),
        ("DELETE (not all)", words.pick(sms_render.CHANNEL, "delete.partial", phone=phone)),
        ("DELETE (under way)", words.pick(sms_render.CHANNEL, "delete.under_way", phone=phone)),
    ):
        yield Reply(key, lang, text, True, CONFIRMATION_SEGMENTS)
    talk = directory.service(flow.hotline)
    talk_label = talk.label(lang) if talk else ""
    line = callback.line_number(site, "") or SAMPLE_LINE
    for key, text in callback.inventory(words, line, talk_label, hotline):
        yield Reply(key, lang, text)
    yield Reply("fail-safe", lang, rt.failsafe.text(lang), True)


def sms_inventory(app: Flask, now: dt.datetime | None = None) -> list[Reply]:
    """Return every SMS reply the line can send, in every language, for every site ("open
    now" judged at ``now``, by default the current time)."""
    rt = _rt(app)
    now = now or dt.datetime.now(dt.UTC)
    replies: list[Reply] = [
        Reply("fail-safe (language unknown)", "all", rt.failsafe.text(None), True)
    ]
    with open_db(app) as db:
        site_ids = [row["id"] for row in db.query("select id from sites order by id")]
        for site_id in site_ids:
            site = get_site(db, site_id) or Site(site_id)
            for lang in rt.catalogs.languages:
                replies.extend(_site_replies(db, rt, site, rt.catalogs.bind(lang), now))
    return replies


@functools.lru_cache(maxsize=2)
def used_keys(project_root: Path = PROJECT_ROOT) -> frozenset[str]:
    """Return every catalog key that code, flows and templates use, as Babel extracts them
    (once a process: the sources do not change under a running line)."""
    method_map, options_map = _babel_mapping(project_root / BABEL_CONFIG)
    keys = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        project_root, method_map, options_map, keywords=EXTRACT_KEYWORDS
    ):
        keys.add(message if isinstance(message, str) else message[0])
    return frozenset(keys)


def _babel_mapping(config: Path) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    with config.open(encoding="utf-8") as handle:
        return parse_mapping_cfg(handle)


def sensitive_hits(text: str, words: tuple[str, ...]) -> list[str]:
    """Return the sensitive words that occur in ``text`` as whole words (any case)."""
    return [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.IGNORECASE)]


@dataclass
class Report:
    """What ``check`` found: lines to print and whether anything failed."""

    lines: list[str]
    failed: bool = False

    def fail(self, line: str) -> None:
        self.lines.append(f"FAIL {line}")
        self.failed = True


def check_catalogs(app: Flask, report: Report) -> None:
    """Fail on any key in use that is missing, empty or fuzzy in either language."""
    required = used_keys() | _rt(app).flow.message_keys()
    problems = list(audit(resolve_path(app.config["LOCALES_DIR"]), required))
    for problem in problems:
        report.fail(f"catalog {problem}")
    report.lines.append(f"catalogs: {len(required)} keys in use, {len(problems)} problems")


def check_sms(app: Flask, report: Report) -> None:
    """List every SMS reply with its encoding and segments; fail on budget or sensitive words."""
    sensitive = _rt(app).sensitive_words
    by_lang: dict[str, list[int]] = {}
    for reply in sms_inventory(app):
        size = cost(reply.text)
        by_lang.setdefault(reply.lang, []).append(size.segments)
        report.lines.append(
            f"sms {reply.lang:4} {size.encoding:5} {size.segments} seg {size.units:4} u"
            f"  {reply.label}"
        )
        if size.segments > reply.budget:
            report.fail(f"over {reply.budget} segments: {reply.lang} {reply.label}")
        hits = sensitive_hits(reply.text, sensitive) if reply.first_contact else []
        if hits:
            report.fail(f"sensitive words {hits} on first contact: {reply.lang} {reply.label}")
    for lang, segments in sorted(by_lang.items()):
        median = statistics.median(segments)
        report.lines.append(
            f"summary sms {lang}: {len(segments)} replies, median {median} segments, "
            f"max {max(segments)}"
        )
        if median > MEDIAN_SEGMENTS:
            report.fail(f"median of {lang} replies is {median} segments (budget {MEDIAN_SEGMENTS})")


# Random conversations walked for the SMS cost people meet, and the seed that chooses them.
WALKED = 150
WALK_SEED = 24


def check_sms_walk(app: Flask, report: Report, demo: bool = False) -> None:
    """Walk random conversations with the line on the deployment's own directory and, with
    ``demo``, on the demo directory ``make run`` loads (in a temporary database): fail when a
    language's median reply is over two segments, any reply over three, or a first reply over
    two."""
    from hotline_bridge import create_app  # the package imports this module

    # Made-up messages: never ask Twilio to delete them.
    config = {**_plain_settings(app), "DELETE_TWILIO_RECORDS": False}
    own = create_app(config)
    walks = {"directory": sms_walk.walk(own, WALKED, WALK_SEED, sms_walk.line_numbers(own))}
    if demo:
        try:
            with sms_walk.demo_app(config) as loaded:
                walks["demo"] = sms_walk.walk(loaded, WALKED, WALK_SEED, sms_walk.DEMO_NUMBERS)
        except RuntimeError as exc:  # this deployment's settings refuse the demo's words
            report.fail(f"sms walk: {exc}")
    for name, sent in walks.items():
        report.lines.extend(f"{one.line()} ({name})" for one in sms_walk.tally(sent))
        for problem in sms_walk.problems(sent):
            report.fail(f"{problem} ({name})")


def _plain_settings(app: Flask) -> dict[str, object]:
    """Return ``app``'s settings that are written as plain values (the others come again from
    the environment), for an app like it on another database."""
    plain = (str, int, float, bool, type(None))
    config: dict[str, object] = {
        s.name: app.config[s.name] for s in SETTINGS if isinstance(app.config.get(s.name), plain)
    }
    config["TESTING"] = bool(app.config.get("TESTING"))
    return config


def check_kiosk_home(app: Flask, report: Report) -> None:
    """Fail on a sensitive word on any site's kiosk home page, in either language."""
    with open_db(app) as db:
        site_ids = [row["id"] for row in db.query("select id from sites order by id")]
    client = app.test_client()
    for site_id in site_ids:
        for lang in _rt(app).catalogs.languages:
            page = client.get(f"/kiosk/{site_id}/{lang}", environ_base={DRY_RUN: True})
            text = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
            hits = sensitive_hits(text, _rt(app).sensitive_words)
            if page.status_code != 200 or hits:
                report.fail(
                    f"kiosk home {site_id}/{lang}: status {page.status_code}, "
                    f"sensitive words {hits}"
                )
    report.lines.append(f"kiosk: home page of {len(site_ids)} site(s) checked in every language")


def check_national_lines(app: Flask, report: Report, today: dt.date) -> None:
    """Warn about stale national lines; fail on a number flagged for re-verification that the
    deployment has not confirmed (only a warning in local mode, which is no deployment)."""
    overrides = app.config["NATIONAL_OVERRIDES"]
    for override in overrides:
        report.lines.append(f"national line {override.line_id}: {override.describe()}")
    confirmed = dict(app.config["CONFIRMED_LINES"])
    rows = []
    for reference in national.lines():
        checked, reviewed = national.overridden(reference, overrides)
        rows.append(checked)
        if reviewed:
            confirmed[checked.id] = reviewed  # the override's review is its confirmation
    count = 0
    for finding in national.findings(confirmed, today, rows):
        count += 1
        line = f"national line {finding.line_id}: {finding.text}"
        if finding.fatal and not app.config["LOCAL"]:
            report.fail(line)
        else:
            report.lines.append(f"WARN {line}")
    report.lines.append(f"national lines: {len(national.lines())} checked, {count} to look at")


def check_directory(app: Flask, report: Report, today: dt.date) -> None:
    """Fail on a kiosk quick exit that leaves the kiosk's server unconfirmed, or on text that
    import would refuse (set in the database directly); list the quick exits to other sites
    and the services nobody has confirmed for ``CONFIRM_EVERY_DAYS``."""
    with open_db(app) as db:
        for site in db.query("select id, exit_url, exit_url_confirmed from sites order by id"):
            _check_exit(site, report)
        for kind, sql in (
            ("service", "select * from services where national = 0 order by id"),
            ("site", "select * from sites order by id"),
        ):
            for row in with_texts(db, list(db.query(sql)), sites=kind == "site"):
                _check_text(kind, row, report)
        stale = list(_unconfirmed(db, today, app.config["CONFIRM_EVERY_DAYS"]))
        named = list(_sensitive_names(db, _rt(app)))
        hidden = [row[0] for row in db.execute(_CONFIDENTIAL)]
    for line in named:
        report.lines.append(line)
    for service_id, confirmed in stale:
        report.lines.append(
            f"WARN service {service_id}: last confirmed {confirmed or 'never'}; check it with "
            "the provider, then import it again or run 'hotline-bridge services edit'"
        )
    report.lines.append(f"directory: {len(stale)} service(s) not confirmed recently")
    # Staff see which places the line never gives an address for, so a wrong mark is noticed.
    listed = f": {', '.join(hidden)}" if hidden else ""
    report.lines.append(f"directory: {len(hidden)} confidential place(s), no address given{listed}")


_CONFIDENTIAL = "select id from services where national = 0 and confidential = 1 order by id"


def _sensitive_names(db: sqlite_utils.Database, rt: Runtime) -> Iterator[str]:
    """Yield a line for each active local service whose own name holds a sensitive word and
    has no discreet label: lists show its category's discreet wording until staff give one."""
    sql = "select * from services where national = 0 and status = 'active' order by id"
    for row in with_texts(db, list(db.query(sql))):
        service = as_service(row)
        for lang, word in rt.discreet.unlabelled(service, rt.catalogs.languages):
            shown = rt.discreet.apply(service).label(lang)
            yield (
                f"WARN service {service.id}: its name holds {word!r} and has no discreet label "
                f"in {lang}; lists show {shown!r} instead. Give it a label_{lang}."
            )


def _check_text(kind: str, row: dict[str, object], report: Report) -> None:
    """Fail on a value import would have refused (a control character), set directly."""
    for name, value in row.items():
        found = raw_problems({name: value}) if isinstance(value, str) else []
        if found:
            report.fail(f"{kind} {row['id']}: {found[0].field}: {found[0].reason}")


def _check_exit(site: dict[str, object], report: Report) -> None:
    url, confirmed = site["exit_url"], bool(site["exit_url_confirmed"])
    reason = exit_url_problem(url if isinstance(url, str) else None, confirmed)
    if reason:
        report.fail(f"site {site['id']}: exit_url: {reason}")
    elif isinstance(url, str) and url.startswith("https://"):
        report.lines.append(f"site {site['id']}: quick exit to {url} (confirmed by the clinic)")


def _unconfirmed(
    db: sqlite_utils.Database, today: dt.date, days: int
) -> Iterator[tuple[str, str | None]]:
    """Yield the active local services last confirmed more than ``days`` before ``today``."""
    since = (today - dt.timedelta(days=days)).isoformat()
    sql = """
        select id, confirmed from services
        where national = 0 and status = 'active' and (confirmed is null or confirmed < ?)
        order by confirmed, id
    """
    yield from db.execute(sql, [since]).fetchall()


def check_waiting_changes(app: Flask, report: Report) -> None:
    """List the number changes made in the console that wait for a second person's approval
    (people keep getting the old number until then)."""
    with open_db(app) as db:
        waiting = waiting_changes(db)
    for change in waiting:
        report.lines.append(
            f"WAIT {change['site']}/{change['service_id']} {change['field']}: "
            f"{change['old'] or '(none)'} -> {change['new'] or '(none)'}, asked by "
            f"{change['requested_by']} at {change['requested_at']}"
            + (
                "; a new service, not offered until then"
                if change["service_status"] == "held"
                else ""
            )
        )
    report.lines.append(f"console: {len(waiting)} number change(s) wait for approval")


# The labelled messages the danger words are measured on (``check --signals``).
DANGER_EXAMPLES = "flows/danger-examples"


def check_danger(app: Flask, report: Report, signals: bool) -> None:
    """Fail on a problem in the danger file (a rule naming unknown words, an empty list, a word
    that stems to nothing); with ``signals``, measure it on the labelled sets, failing when a
    set it was tuned on falls below the targets (a held-out set is reported as it is)."""
    for problem in problems_in(resolve_path(DANGER_FILE)):
        report.fail(f"danger {problem}")
    danger = _rt(app).danger
    rules = ", ".join(
        f"{code} {sum(len(c.rules.get(code, ())) for c in danger.concepts)} rules"
        for code in danger.languages
    )
    report.lines.append(f"danger: {len(danger.concepts)} concepts, {rules}")
    if not signals:
        return
    for rates in measure_all(danger, resolve_path(DANGER_EXAMPLES)):
        if rates.tuning and not rates.ok:
            report.fail(f"{rates.line()} (targets: recall 95%, false alarms 5%)")
        else:
            report.lines.append(rates.line() + rates.kind)


def run_checks(app: Flask, today: dt.date, signals: bool = False, demo: bool = False) -> Report:
    """Run every check against ``app`` on the day ``today`` and return the report; with
    ``signals``, measure the danger words on their labelled sets too; with ``demo``, walk SMS
    conversations with the demo directory as well."""
    report = Report(lines=[f"flow {_rt(app).flow.path.name}: valid"])
    check_danger(app, report, signals)
    check_national_lines(app, report, today)
    check_directory(app, report, today)
    check_catalogs(app, report)
    check_sms(app, report)
    check_sms_walk(app, report, demo)
    check_kiosk_home(app, report)
    problems = voice_problems(app)
    for problem in problems:
        report.fail(f"voice {problem}")
    report.lines.append(f"voice: every path walked in every language, {len(problems)} problems")
    # Start-up refused a language with neither a voice nor a fallback that has one.
    for lang, fallback in app.extensions["hotline_bridge.voice"].fallbacks.items():
        report.lines.append(f"voice: {lang} is read as {fallback} on calls, and offered by text")
    check_waiting_changes(app, report)
    return report
