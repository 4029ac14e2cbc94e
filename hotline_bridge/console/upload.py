"""Uploading a services CSV or a zipped Open Referral (HSDS 3.0) package: the line-numbered
problem report and a preview of what would be added, changed and retired, before anything is
applied. Applying follows the same rules as editing: a changed number waits for a second person,
a new service with numbers is held until they are approved, and a retired service the file lists
again is restored (held while none of its numbers was ever approved).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import abort, render_template, request
from werkzeug.wrappers import Response

from hotline_bridge.console import changes, store
from hotline_bridge.console.access import (
    back_to,
    chosen_site,
    db,
    now,
    require_site,
    signed_in,
    staff,
    who,
)
from hotline_bridge.console.blueprint import bp
from hotline_bridge.console.services import (
    RETIRED,
    _second_factor,
    _sites_for_picker,
    add_held,
    code_error,
    import_context,
    proposed_numbers,
    request_number_change,
    retire_at,
    settle,
    withdraw,
)
from hotline_bridge.directory import hsds
from hotline_bridge.directory.csvfile import FileProblem, Problem, header
from hotline_bridge.directory.importer import Batch, check_services_csv, kind_of
from hotline_bridge.directory.reasons import Reason
from hotline_bridge.directory.store import (
    ACTIVE,
    DEFAULT_SITE,
    HELD,
    SERVICE_TEXTS,
    text_column,
    with_texts,
    write_package_rows,
    write_services,
)
from hotline_bridge.directory.validation import SERVICE_COLUMNS

# The largest file accepted (a few thousand services fit in far less).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# The most files and bytes a zipped package may unpack to.
MAX_ZIP_FILES, MAX_ZIP_BYTES = 64, 50 * 1024 * 1024
# How long a checked, unapplied upload is kept.
KEEP_UPLOADS = dt.timedelta(days=1)
# Columns compared to tell a changed service from an unchanged one: an import's columns, less
# the keys, the map position (derived from the address) and the flags only a file sets.
# (A row's words are compared in every language it has.)
COMPARED = tuple(
    c
    for c in SERVICE_COLUMNS
    if c not in {"id", "site", "latitude", "longitude", "fictional", "status"}
    and not text_column(c, SERVICE_TEXTS)
)


@dataclass
class Preview:
    """What applying a checked file would do to the site."""

    batch: Batch
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    # The site's services the file does not list: kept, unless staff say the file is the
    # site's whole directory and confirm these by name.
    retired: list[dict[str, Any]] = field(default_factory=list)
    # The other sites that show a changed or unlisted service: a change reaches them too, and
    # an unlisted one only leaves this site's list.
    shared: dict[str, list[str]] = field(default_factory=dict)
    # The stored service each changed row replaces.
    before: dict[str, dict[str, Any]] = field(default_factory=dict)

    def unapproved(self, row: Mapping[str, Any]) -> list[str]:
        """Return the fields of a changed row that keep the stored value until approved."""
        return changes.unapproved(self.before[row["id"]], row)

    @property
    def held(self) -> list[dict[str, Any]]:
        """Return the added services with values that wait for a second person."""
        return [row for row in self.added if changes.guarded({}, row, {})]

    @property
    def number_changes(self) -> bool:
        """Return whether any change waits for a second person (and so needs a code)."""
        changed = any(
            changes.needs_second_person(name, pair[1])
            for _row, diff in self.changed
            for name, pair in diff.items()
        )
        return changed or bool(self.held)

    @property
    def retiring(self) -> str:
        """Return what confirming the retirements names: the ids, in order (a confirmation
        given for another list, one that changed since, confirms nothing)."""
        return ",".join(sorted(row["id"] for row in self.retired))


# What reading a damaged zip file can raise: a bad checksum or header, a broken compressed
# stream, a cut-off file, a compression or encryption the library cannot read.
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _unpack(content: bytes, into: Path, name: str) -> Path | None:
    """Unpack a zipped package safely (no paths outside ``into``, bounded size); return the
    folder holding its tables. A damaged archive is a ``FileProblem``, said as such."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return None
    members = archive.infolist()
    if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        return None
    for member in members:
        target = (into / member.filename).resolve()
        if not target.is_relative_to(into.resolve()):
            return None
        if not member.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.write_bytes(archive.read(member))
            except _DAMAGED_ZIP:
                reason = Reason("zip_damaged", "the zip file is damaged; make it again")
                raise FileProblem(Problem(name, 0, "file", reason)) from None
    return next((p.parent for p in sorted(into.rglob("services.csv"))), None)


def _file_name(name: str) -> str:
    """Return the last part of an uploaded file's name, or a plain one when it has none that
    can be a file's ("", ".", ".." or only slashes)."""
    last = Path(name.replace("\\", "/")).name
    return last if last not in {"", ".", ".."} else "upload.csv"


def check_upload(name: str, content: bytes, site: str) -> Batch:
    """Check an uploaded file as an import would, for ``site``."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            batch = _check_file(name, content, site, Path(tmp))
        except FileProblem as exc:
            # A file that cannot be read at all (not UTF-8, broken CSV) is one problem to
            # report in the reader's language, like a bad row, not a server error.
            return Batch(problems=[exc.problem])
    _keep_to_site(batch, site, name)
    return batch


def _check_file(name: str, content: bytes, site: str, folder: Path) -> Batch:
    """Check a zipped package or a services CSV (``FileProblem`` if it cannot be read)."""
    ctx = import_context(db())
    if name.lower().endswith(".zip"):
        root = _unpack(content, folder, _file_name(name))
        if root is None or not hsds.is_package(root):
            reason = Reason("not_package", "not a zipped Open Referral package")
            return Batch(problems=[Problem(name, 1, "file", reason)])
        return hsds.check_package(root, ctx, today=now().date(), site=site)
    path = folder / _file_name(name)
    path.write_bytes(content)
    if kind_of(header(path)) != "services":
        reason = Reason("not_services", "not a services file (columns id, category, name_en, ...)")
        return Batch(problems=[Problem(path.name, 1, "file", reason)])
    return check_services_csv(path, ctx)


def _keep_to_site(batch: Batch, site: str, name: str) -> None:
    """Show every row at the uploading site; refuse rows that name a site the account may not
    change, or reuse the id of another site's service."""
    for row in list(batch.services):
        links = [site if link == DEFAULT_SITE else link for link in batch.links[row["id"]]]
        batch.links[row["id"]] = list(dict.fromkeys(links))
        others = [s for s in _linked(row["id"]) if s != site and not staff().may_see(s)]
        foreign = [s for s in links if not staff().may_see(s)]
        if foreign or others:
            owner = repr((foreign or others)[0])
            english = f"{row['id']}: belongs to site {owner}, which this account cannot change"
            reason = Reason("foreign_site", english, service=row["id"], site=owner)
            # A package's lines are those of its services.csv.
            where = "services.csv" if name.lower().endswith(".zip") else _file_name(name)
            batch.problems.append(Problem(where, batch.lines.get(row["id"], 0), "site", reason))
            batch.services.remove(row)


def _linked(service_id: str) -> list[str]:
    sql = "select site_id from service_sites where service_id = ?"
    return [r["site_id"] for r in db().query(sql, [service_id])]


def preview_of(batch: Batch, site: str) -> Preview:
    """Compare a checked batch with the site's directory."""
    sql = """select s.* from services s join service_sites l on l.service_id = s.id
             where l.site_id = ? and s.national = 0"""
    found = with_texts(db(), list(db().query(sql, [site])))
    current = {row["id"]: row for row in found if row["status"] != RETIRED}
    stored = list(db().query("select * from services where national = 0"))
    existing = {row["id"]: row for row in with_texts(db(), stored)}
    preview = Preview(batch)
    for row in batch.services:
        old = existing.get(row["id"])
        if old is None:
            preview.added.append(row)
            continue
        diff = _diff(old, row, proposed_numbers(row["id"]))
        if old["status"] == RETIRED and row["status"] != RETIRED:
            diff["status"] = (RETIRED, row["status"])  # listed again: restored
        if diff:
            preview.changed.append((row, diff))
            preview.before[row["id"]] = old
            _note_shared(preview, row["id"], site)
    uploaded = {row["id"] for row in batch.services}
    preview.retired = [row for sid, row in current.items() if sid not in uploaded]
    for row in preview.retired:
        _note_shared(preview, row["id"], site)
    return preview


def _diff(
    old: Mapping[str, Any], row: Mapping[str, Any], waiting: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Return what the file changes: a value unlike the stored one, and unlike the one that
    already waits for approval (the file giving either is no change)."""
    compared = (*COMPARED, *(k for k in row if text_column(k, SERVICE_TEXTS)))
    return {
        k: (old.get(k), row[k])
        for k in compared
        if _differs(old.get(k), row[k]) and (k not in waiting or _differs(waiting[k], row[k]))
    }


def _differs(a: object, b: object) -> bool:
    return (a or None) != (b or None)


def _note_shared(preview: Preview, service_id: str, site: str) -> None:
    others = [s for s in _linked(service_id) if s != site]
    if others:
        preview.shared[service_id] = sorted(others)


def _stored(upload_id: str) -> Mapping[str, Any]:
    rows = list(db().query("select * from uploads where id = ?", [upload_id]))
    if not rows or rows[0]["staff_id"] != staff().id:
        abort(404)
    require_site(rows[0]["site"])
    return rows[0]


@bp.route("/upload", methods=["GET", "POST"])
@signed_in
def upload() -> str:
    """Take a file and show its problem report and preview; nothing is written yet."""
    site = chosen_site()
    # An admin picks the site the file is for on the form itself, as in the directory.
    sites = _sites_for_picker()
    if request.method == "GET":
        return render_template("console/upload.html", site=site, sites=sites)
    request.max_content_length = MAX_UPLOAD_BYTES
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return render_template(
            "console/upload.html", site=site, sites=sites, error="console.upload.none"
        )
    content = sent.read()
    upload_id = secrets.token_urlsafe(16)
    # A checked file waits a day at most for someone to apply it.
    db().execute("delete from uploads where created < ?", [store.stamp(now() - KEEP_UPLOADS)])
    batch = check_upload(sent.filename, content, site)
    if not batch.problems:  # a file with problems cannot be applied: nothing of it is kept
        _keep_upload(upload_id, site, sent.filename, content)
    return _report(upload_id, sent.filename, site, batch)


def _keep_upload(upload_id: str, site: str, name: str, content: bytes) -> None:
    """Keep a checked file until it is applied (or a day has passed)."""
    db().table("uploads").insert(
        {
            "id": upload_id,
            "staff_id": staff().id,
            "site": site,
            "name": name,
            "content": content,
            "created": store.stamp(now()),
        }
    )


def _report(
    upload_id: str,
    name: str,
    site: str,
    batch: Batch,
    error: str | None = None,
    *,
    confirming: bool = False,
) -> str:
    return render_template(
        "console/upload_report.html",
        upload_id=upload_id,
        name=name,
        site=site,
        preview=preview_of(batch, site),
        confirming=confirming,
        problems=sorted(batch.problems, key=lambda p: (p.line, p.field)),
        warnings=sorted(batch.warnings, key=lambda p: (p.line, p.field)),
        error=error,
        # A file that could not be read says nothing of what it would do (not "retire all").
        readable=not any(p.field == "file" for p in batch.problems),
    )


@bp.post("/upload/<upload_id>/apply")
@signed_in
def apply_upload(upload_id: str) -> str | Response:
    """Apply a checked file: add, change and retire; changed numbers wait for approval."""
    stored = _stored(upload_id)
    site = stored["site"]
    batch = check_upload(stored["name"], stored["content"], site)
    preview = preview_of(batch, site)
    if batch.problems:
        return _report(upload_id, stored["name"], site, batch, "console.upload.fix_first")
    # Only a file staff call their whole directory retires what it leaves out, and only once
    # they have seen, by name, what that would retire (asked before the code is spent).
    whole = request.form.get("whole") == "1" and bool(preview.retired)
    if whole and request.form.get("retire") != preview.retiring:
        return _report(upload_id, stored["name"], site, batch, confirming=True)
    if preview.number_changes and not _second_factor():
        error = code_error() or "console.upload.needs_code"
        return _report(upload_id, stored["name"], site, batch, error, confirming=whole)
    with db().conn:
        _write(preview, site, stored["name"], retire=whole)
        db().execute("delete from uploads where id = ?", [upload_id])
    return back_to("console.directory", site=site)


def _write(preview: Preview, site: str, name: str, *, retire: bool) -> None:
    write_package_rows(db(), preview.batch.package)
    for row in preview.added:
        add_held(row, site, source=name)
        _link(row["id"], preview.batch.links[row["id"]])
    for row, diff in preview.changed:
        waits = {f: pair for f, pair in diff.items() if changes.needs_second_person(f, pair[1])}
        for f in proposed_numbers(row["id"]):
            if f in diff and f not in waits:  # words that no longer hold a number
                withdraw(db(), now(), who(), site, row["id"], f)
        kept = changes.kept_back(row, preview.before[row["id"]], preview.unapproved(row))
        kept["status"] = _status(row, diff)
        confirmed = now().date().isoformat()
        write_services(db(), [{**kept, "national": 0, "source": name, "confirmed": confirmed}])
        _link(row["id"], preview.batch.links[row["id"]])
        before = {f: old for f, (old, _new) in diff.items() if f not in waits}
        after = {f: kept[f] for f in before}
        if before:
            store.record(
                db(),
                now(),
                who(),
                "service changed",
                row["id"],
                site=site,
                before=before,
                after=after,
            )
        for f, (old, new) in waits.items():
            request_number_change(db(), now(), who(), site, row["id"], f, old, new)
        settle(row["id"], site)
    for row in preview.retired if retire else ():
        retire_at(row, site)


def _status(row: Mapping[str, Any], diff: Mapping[str, tuple[Any, Any]]) -> str:
    """Return a changed service's status: a held one stays held (its numbers decide), and a
    restored one is held while no number of it was ever approved."""
    stored = db().execute("select status from services where id = ?", [row["id"]]).fetchone()[0]
    if stored == HELD:
        return HELD
    if "status" in diff and row["status"] == ACTIVE:
        return store.restored_status(db(), row["id"])
    return str(row["status"])


def _link(service_id: str, sites: list[str]) -> None:
    for site in sites:
        db().table("service_sites").upsert(
            {"service_id": service_id, "site_id": site}, pk=("service_id", "site_id")
        )
