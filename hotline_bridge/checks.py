"""``hotline-bridge check``: the content checks a deployment must pass before it serves anyone.

It proves that both catalogs translate every key in use (nothing missing, empty or fuzzy), that
no first-contact surface uses a sensitive word, and that every SMS reply the flow can produce stays
within the segment budget. The voice line adds its own path checks.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import Flask

from hotline_bridge.channels.sms import render as sms_replies
from hotline_bridge.channels.sms.segments import MAX_SEGMENTS, MEDIAN_SEGMENTS, cost
from hotline_bridge.channels.voice.check import voice_problems
from hotline_bridge.console.store import waiting_changes
from hotline_bridge.counters import DRY_RUN
from hotline_bridge.directory import national
from hotline_bridge.directory.models import Site, get_site
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.catalogs import BABEL_CONFIG, EXTRACT_KEYWORDS, LANGUAGES, Words, audit
from hotline_bridge.engine.flow import Flow, Position, has_more
from hotline_bridge.runtime import Runtime
from hotline_bridge.settings import PROJECT_ROOT, resolve_path


@dataclass(frozen=True)
class Reply:
    """One SMS reply the line can send: what produces it, its language and its text."""

    label: str
    lang: str
    text: str
    first_contact: bool = False


def _rt(app: Flask) -> Runtime:
    return app.extensions["hotline_bridge"]


# The ZIP code ZIP replies are rendered with when a site names none: the check is about the
# length of replies, so any ZIP code the offline table knows will do.
SAMPLE_ZIP = "02139"
# How many pages of ZIP results to render at most per kind of help.
ZIP_PAGES = 3


def _zip_positions(db: sqlite_utils.Database, flow: Flow, site: Site) -> Iterator[Position]:
    """Yield the ZIP step's positions: asking for the code, for the kind, and result pages."""
    if flow.zip_node is None:
        return
    node, code = flow.node(flow.zip_node), site.zip or SAMPLE_ZIP
    yield Position(node.id)
    yield Position(node.id, item=code)
    for option in node.options:
        for page in range(ZIP_PAGES):
            position = Position(node.id, item=f"{code}.{option.goto}", page=page)
            yield position
            found = sms_replies.nearby_listing(db, flow, site, position, "en") or []
            if not has_more(flow, found, page, node.page_size):
                break


def _positions(db: sqlite_utils.Database, flow: Flow, site: Site) -> Iterator[Position]:
    """Yield every position the flow can reach with the site's directory, pages included."""
    details: set[str] = set()
    for node in flow.nodes.values():
        if node.type == "list":
            listed = sms_replies.listing(db, node, site).services
            pages = max(1, -(-len(listed) // flow.page_size))
            for page in range(pages):
                yield Position(node.id, page=page)
            details.update(service.id for service in listed)
        elif node.type not in {"detail", "zip"}:
            yield Position(node.id)
    yield from _zip_positions(db, flow, site)
    detail_node = next((n.id for n in flow.nodes.values() if n.type == "detail"), None)
    if detail_node:
        for service_id in sorted(details):
            yield Position(detail_node, item=service_id)


def _compliance_replies(
    words: Words, rt: Runtime, site: Site, db: sqlite_utils.Database
) -> Iterator[Reply]:
    for meaning in ("help", "stop", "start"):
        text = sms_replies.compliance(db, words, rt.flow, site, rt.failsafe.hotline_phone, meaning)
        yield Reply(meaning.upper(), words.lang, text, True)
    yield Reply("fail-safe", words.lang, rt.failsafe.text(words.lang), True)


def sms_inventory(app: Flask) -> list[Reply]:
    """Return every SMS reply the flow can produce, in both languages, for every site."""
    rt = _rt(app)
    replies: list[Reply] = [
        Reply("fail-safe (language unknown)", "both", rt.failsafe.text(None), True)
    ]
    with open_db(app) as db:
        site_ids = [row["id"] for row in db.query("select id from sites order by id")]
        for site_id in site_ids:
            site = get_site(db, site_id) or Site(site_id)
            for lang in LANGUAGES:
                replies.extend(_site_replies(db, rt, site, rt.catalogs.bind(lang)))
    return replies


def _site_replies(
    db: sqlite_utils.Database, rt: Runtime, site: Site, words: Words
) -> Iterator[Reply]:
    flow = rt.flow
    unknown = words.t("sms.unknown")
    for position in _positions(db, flow, site):
        where = f"{site.id}/{position.encode()}"
        text = sms_replies.reply(db, words, flow, site, position)
        yield Reply(where, words.lang, text, position.node == flow.start)
        yield Reply(
            f"{where} (not understood)",
            words.lang,
            sms_replies.reply(db, words, flow, site, position, notice=unknown),
        )
    yield from _compliance_replies(words, rt, site, db)


def used_keys(project_root: Path = PROJECT_ROOT) -> set[str]:
    """Return every catalog key that code, flows and templates use, as Babel extracts them."""
    method_map, options_map = _babel_mapping(project_root / BABEL_CONFIG)
    keys = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        project_root, method_map, options_map, keywords=EXTRACT_KEYWORDS
    ):
        keys.add(message if isinstance(message, str) else message[0])
    return keys


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
        if size.segments > MAX_SEGMENTS:
            report.fail(f"over {MAX_SEGMENTS} segments: {reply.lang} {reply.label}")
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


def check_kiosk_home(app: Flask, report: Report) -> None:
    """Fail on a sensitive word on any site's kiosk home page, in either language."""
    with open_db(app) as db:
        site_ids = [row["id"] for row in db.query("select id from sites order by id")]
    client = app.test_client()
    for site_id in site_ids:
        for lang in LANGUAGES:
            page = client.get(f"/kiosk/{site_id}/{lang}", environ_base={DRY_RUN: True})
            text = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
            hits = sensitive_hits(text, _rt(app).sensitive_words)
            if page.status_code != 200 or hits:
                report.fail(
                    f"kiosk home {site_id}/{lang}: status {page.status_code}, "
                    f"sensitive words {hits}"
                )
    report.lines.append(f"kiosk: home page of {len(site_ids)} site(s) checked in both languages")


def check_national_lines(app: Flask, report: Report, today: dt.date) -> None:
    """Warn about stale national lines; fail on a number flagged for re-verification that the
    deployment has not confirmed (only a warning in local mode, which is no deployment)."""
    count = 0
    for finding in national.findings(app.config["CONFIRMED_LINES"], today):
        count += 1
        line = f"national line {finding.line_id}: {finding.text}"
        if finding.fatal and not app.config["LOCAL"]:
            report.fail(line)
        else:
            report.lines.append(f"WARN {line}")
    report.lines.append(f"national lines: {len(national.lines())} checked, {count} to look at")


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
        )
    report.lines.append(f"console: {len(waiting)} number change(s) wait for approval")


def run_checks(app: Flask, today: dt.date) -> Report:
    """Run every check against ``app`` on the day ``today`` and return the report."""
    report = Report(lines=[f"flow {_rt(app).flow.path.name}: valid"])
    check_national_lines(app, report, today)
    check_catalogs(app, report)
    check_sms(app, report)
    check_kiosk_home(app, report)
    problems = voice_problems(app)
    for problem in problems:
        report.fail(f"voice {problem}")
    report.lines.append(f"voice: every path walked in both languages, {len(problems)} problems")
    check_waiting_changes(app, report)
    return report
