"""Two identical servers behind one number: any request of a conversation may reach either.

Each server has its own copy of the directory, restored from the one writer's backup (as the
README describes), and both share SECRET_KEY, so the SMS cookie Twilio carries and the voice
action URL mean the same to both.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SENDER, sign

from hotline_bridge.cli import main
from hotline_bridge.settings import PROJECT_ROOT

DEMO = PROJECT_ROOT / "examples" / "demo"
DEMO_NUMBER = "+15555550199"
TEXTS = ("hola", "2", "1", "MENU", "EN", "2")
KEYS = ("2", "2", "1", "1")
ACTION = re.compile(r'<Gather action="([^"]+)"')


def post(base_url: str, path: str, params: dict[str, str], cookie: str = "") -> tuple[str, str]:
    """POST as Twilio does; return the body and the conversation cookie it set (if any)."""
    headers = {"X-Twilio-Signature": sign(base_url + path, params)}
    if cookie:
        headers["Cookie"] = cookie
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(base_url + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        set_cookie = response.headers.get("Set-Cookie", "")
        return response.read().decode(), set_cookie.split(";", 1)[0]


def text_conversation(servers: list[str]) -> list[str]:
    """Text the line, each message to the next server in turn, carrying Twilio's cookie."""
    replies, cookie = [], ""
    for n, body in enumerate(TEXTS):
        params = {"Body": body, "From": SENDER, "To": DEMO_NUMBER, "MessageSid": f"SM{n:032d}"}
        reply, set_cookie = post(servers[n % len(servers)], "/sms", params, cookie)
        cookie = set_cookie or cookie
        replies.append(reply)
    return replies


def call(servers: list[str]) -> list[str]:
    """Call the line and press keys, each request to the next server in turn."""
    params = {"From": SENDER, "To": DEMO_NUMBER, "CallSid": "CA" + "7" * 32}
    answers = [post(servers[0], "/voice", params)[0]]
    for n, key in enumerate(KEYS, start=1):
        action = ACTION.search(answers[-1])
        assert action, answers[-1]
        path = action[1].replace("&amp;", "&")
        answers.append(post(servers[n % len(servers)], path, {**params, "Digits": key})[0])
    return answers


@pytest.fixture
def two_servers(gunicorn_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The writer's database with the demo directory, and a replica restored from its backup."""
    writer, replica = tmp_path / "writer.db", tmp_path / "replica.db"
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(writer))
    monkeypatch.setenv("HOTLINE_BRIDGE_LOCAL", "1")
    for name in ("sites.csv", "services.csv"):
        assert CliRunner().invoke(main, ["import", str(DEMO / name)]).exit_code == 0
    assert CliRunner().invoke(main, ["backup", str(tmp_path / "nightly.db")]).exit_code == 0
    monkeypatch.setenv("HOTLINE_BRIDGE_DATABASE", str(replica))
    assert CliRunner().invoke(main, ["restore", str(tmp_path / "nightly.db")]).exit_code == 0
    return [gunicorn_server(writer), gunicorn_server(replica)]


def test_one_sms_conversation_alternates_between_two_servers(two_servers: list[str]) -> None:
    alternating = text_conversation(two_servers)
    assert alternating == text_conversation(two_servers[:1])
    # The place and the language travelled in the cookie from one server to the other.
    assert "Ayuda legal" in alternating[2]
    assert "Legal or immigration help" in alternating[5]


def test_one_call_alternates_between_two_servers(two_servers: list[str]) -> None:
    alternating = call(two_servers)
    assert alternating == call(two_servers[:1])
    assert 'language="es-US"' in alternating[-1] and "Riverside" in "".join(alternating)
