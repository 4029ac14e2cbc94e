"""Two identical servers behind one number: any request of a conversation may reach either.

Each server has its own copy of the directory, restored from the one writer's backup (as the
README describes), and both share SECRET_KEY, so the SMS cookie Twilio carries and the voice
action URL mean the same to both.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hotline_bridge.cli import main
from hotline_bridge.settings import PROJECT_ROOT
from tests.conftest import SENDER, Servers, sign

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
        # Every message Twilio delivers has its own Sid (the same one again is a retry).
        sid = f"SM{secrets.token_hex(16)}"
        params = {"Body": body, "From": SENDER, "To": DEMO_NUMBER, "MessageSid": sid}
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


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("two-servers")


def cli(*args: str, database: Path) -> Any:
    """Run a command on ``database`` (in local mode: the commands need no production secrets)."""
    env = {"HOTLINE_BRIDGE_DATABASE": str(database), "HOTLINE_BRIDGE_LOCAL": "1"}
    result = CliRunner(env=env).invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def two_servers(folder: Path) -> Iterator[list[str]]:
    """The writer's database with the demo directory, and a replica restored from its backup,
    each served by its own gunicorn (started once for this module: starting is slow)."""
    writer, replica = folder / "writer.db", folder / "replica.db"
    for name in ("sites.csv", "services.csv"):
        cli("import", str(DEMO / name), database=writer)
    cli("backup", str(folder / "nightly.db"), database=writer)
    cli("restore", str(folder / "nightly.db"), database=replica)
    servers = Servers(folder)
    try:
        yield [servers.start(writer), servers.start(replica)]
    finally:
        servers.stop_all()


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


def sms_total(output: str) -> int:
    """Add up the SMS counts printed by ``hotline-bridge counts``."""
    rows = [line.split() for line in output.splitlines() if "  sms " in line]
    return sum(int(row[3]) for row in rows)


def test_counts_add_up_what_each_server_answered(two_servers: list[str], folder: Path) -> None:
    import time

    databases = [str(folder / "writer.db"), str(folder / "replica.db")]
    both = ["counts", *("--database", databases[0], "--database", databases[1])]

    def totals() -> tuple[int, int, int]:
        each = [
            sms_total(cli("counts", "--database", d, database=folder / "x.db").output)
            for d in databases
        ]
        return each[0], each[1], sms_total(cli(*both, database=folder / "x.db").output)

    before = totals()
    text_conversation(two_servers)
    deadline = time.monotonic() + 60  # counts may be written shortly after the answers
    while (after := totals())[2] < before[2] + len(TEXTS):
        assert time.monotonic() < deadline, after
        time.sleep(0.2)
    # Each server counted only what it answered; the sum over both is the line's total.
    assert after[0] > before[0] and after[1] > before[1]
    assert after[0] + after[1] == after[2] == before[2] + len(TEXTS)
