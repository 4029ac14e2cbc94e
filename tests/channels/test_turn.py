"""One turn for every channel: the pipeline's stages, its one fail-safe, and its counts."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response

from hotline_bridge import counters
from hotline_bridge.channels import turn
from hotline_bridge.directory.models import Site, get_site
from hotline_bridge.settings import PROJECT_ROOT

CHANNELS = PROJECT_ROOT / "hotline_bridge" / "channels"
SECRET = "my boss keeps my passport +15558675309"


def _writes_counts(path: Path) -> list[str]:
    """What in ``path`` could write a count: the counters module itself, or its writers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "hotline_bridge":
            found += [a.name for a in node.names if a.name == "counters"]
        elif isinstance(node, ast.ImportFrom) and node.module == "hotline_bridge.counters":
            found += [a.name for a in node.names if a.name in {"bump", "Tally", "flush_all"}]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name == "hotline_bridge.counters"]
    return found


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CHANNELS.rglob("*.py") if p != CHANNELS / "turn.py"),
    ids=lambda p: str(p.relative_to(CHANNELS)),
)
def test_no_channel_module_writes_counts(path: Path) -> None:
    assert not _writes_counts(path), path


def test_the_pipeline_is_what_writes_counts() -> None:
    assert _writes_counts(CHANNELS / "turn.py") == ["counters"]


def _channel(**stages: Any) -> turn.Channel[str, str]:
    def render(place: turn.Place[str], given: str, decided: str) -> turn.Done:
        return turn.Done(Response(decided), [("en", f"said:{decided}")])

    parts: dict[str, Any] = {
        "name": "test",
        "read": lambda: SECRET,
        "site": lambda db, given: get_site(db, "default"),
        "step": lambda place, given: place.site.id,
        "render": render,
        "fail_safe": lambda given: Response("call the 24/7 line or 911"),
    }
    return turn.Channel(**{**parts, **stages})


def _counted(app: Flask) -> list[tuple[str, str, str]]:
    counters.flush_all()
    with app.app_context():
        from hotline_bridge.directory.store import get_db

        rows = counters.totals(get_db())
    return [(str(r["channel"]), str(r["language"]), str(r["event"])) for r in rows]


def test_a_turn_runs_site_step_effects_render_and_counts(app: Flask) -> None:
    ran: list[str] = []

    def effects(place: turn.Place[str], given: str, decided: str) -> str:
        ran.append("effects")
        return decided.upper()

    with app.test_request_context("/"):
        response = turn.run(_channel(effects=effects))
    assert response.get_data(as_text=True) == "DEFAULT" and ran == ["effects"]
    assert ("test", "en", "said:DEFAULT") in _counted(app)


def test_a_turn_looks_up_no_site_it_does_not_use(app: Flask) -> None:
    def no_site(db: Any, given: str) -> Site:
        raise AssertionError("looked up")

    with app.test_request_context("/"):
        response = turn.run(_channel(site=no_site, step=lambda place, given: "kept"))
    assert response.get_data(as_text=True) == "kept"


@pytest.mark.parametrize("stage", ["read", "site", "step", "effects", "render"])
def test_a_fault_at_any_stage_is_the_channel_s_fail_safe_logged_without_the_message(
    app: Flask, stage: str, captured_logs: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any) -> Any:
        raise ValueError(f"could not handle {SECRET}")

    with app.test_request_context("/"):
        response = turn.run(_channel(**{stage: broken}))
    assert response.get_data(as_text=True) == "call the 24/7 line or 911"
    assert "ValueError" in captured_logs.text and "failed safe" in captured_logs.text
    assert SECRET not in captured_logs.text and "passport" not in captured_logs.text
    assert not [row for row in _counted(app) if row[0] == "test"]


def test_the_fail_safe_is_given_what_was_read(app: Flask) -> None:
    def step(place: turn.Place[str], given: str) -> str:
        raise RuntimeError("boom")

    given: list[object] = []

    def fail_safe(read: str | None) -> Response:
        given.append(read)
        return Response("safe")

    with app.test_request_context("/"):
        turn.run(_channel(step=step, fail_safe=fail_safe))
    assert given == [SECRET]


def test_a_count_that_fails_does_not_fail_the_answer(
    app: Flask, monkeypatch: pytest.MonkeyPatch, captured_logs: pytest.LogCaptureFixture
) -> None:
    def refused(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(counters, "bump", refused)
    with app.test_request_context("/"):
        response = turn.run(_channel())
    assert response.get_data(as_text=True) == "default"
    assert "test count failed safe: OSError" in captured_logs.text
