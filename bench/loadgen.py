"""A small HTTP load generator for Twilio-style webhooks, in one process over keep-alive sockets.

Each simulated conversation posts the form fields Twilio posts, signed with
``RequestValidator`` for the exact URL, and carries the session cookie from one reply to the next
as Twilio does for a conversation. Two ways to drive a server:

- ``closed_loop``: every connection sends its next request as soon as the reply arrives, for a
  fixed time (throughput);
- ``open_loop``: requests leave on a fixed schedule whatever the server does, and each latency is
  counted from the moment the request was due, so a stall cannot hide behind a waiting client.

The HTTP client is deliberately minimal (one request in flight per connection, Content-Length
bodies only) so the generator costs the server's two cores as little as possible.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

# Seconds without any reply after which the requests still waiting count as errors.
REPLY_TIMEOUT_S = 5.0
# Bytes read from a socket at a time.
RECV_BYTES = 65536
# A Twilio number of the line and the account that owns it (fictional 555-01xx numbers).
LINE_NUMBER = "+12025550199"
ACCOUNT_SID = "AC" + "b" * 32
# Where the simulated senders' numbers start.
FIRST_SENDER = 2025550100
# How many error descriptions a run keeps, to show what went wrong.
ERROR_EXAMPLES = 5

# What a person might text over one conversation, in both languages: menus, lists, a detail,
# shortcuts, HELP, a language switch and something not understood. It repeats.
SCRIPT = (
    "Hi", "2", "1", "1", "0", "1", "1", "2", "8", "0", "3", "0", "4", "HELP",
    "ES", "0", "2", "3", "1", "MENÚ", "9", "Hola", "2", "6", "1", "0", "1", "EN",
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """Where to send: the server's loopback address and the path of the route."""

    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class SignedMessage:
    """One incoming text as Twilio posts it: the form body and its signature."""

    body: bytes
    signature: str


@dataclass
class Conversation:
    """One person's messages, in order, and the cookie Twilio keeps for the conversation."""

    messages: Sequence[SignedMessage]
    cookie: str | None = None
    sent: int = 0

    def next_message(self) -> SignedMessage:
        """Return the next message of the script, going round when it ends."""
        message = self.messages[self.sent % len(self.messages)]
        self.sent += 1
        return message

    def keep(self, set_cookie: str | None) -> None:
        """Keep the cookie a reply set, or forget it when the reply cleared it."""
        if set_cookie is None:
            return
        self.cookie = set_cookie if set_cookie.partition("=")[2] else None


def twilio_params(sender: int, index: int, body: str) -> dict[str, str]:
    """Return the form fields Twilio posts for an incoming SMS."""
    sid = f"SM{sender:016d}{index:016d}"
    return {
        "ToCountry": "US",
        "ToState": "DC",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "WASHINGTON",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "DC",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": LINE_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"+1{sender}",
        "ApiVersion": "2010-04-01",
    }


def conversations(url: str, auth_token: str, count: int) -> list[Conversation]:
    """Return ``count`` conversations whose messages are signed for ``url``."""
    validator = RequestValidator(auth_token)
    result = []
    for number in range(count):
        sender = FIRST_SENDER + number
        messages = []
        for index, text in enumerate(SCRIPT):
            params = twilio_params(sender, index, text)
            signature = validator.compute_signature(url, params)
            messages.append(SignedMessage(urlencode(params).encode(), signature))
        result.append(Conversation(messages))
    return result


@dataclass(frozen=True)
class Reply:
    """What the client needs from an HTTP response."""

    status: int
    set_cookie: str | None
    body: bytes
    close: bool


class ConnectionClosed(Exception):
    """The server closed the connection."""


def request_bytes(target: Target, message: SignedMessage, cookie: str | None) -> bytes:
    """Return the HTTP request Twilio would send for ``message``."""
    lines = [
        f"POST {target.path} HTTP/1.1",
        f"Host: {target.host_header}",
        "User-Agent: TwilioProxy/1.1",
        "Accept: */*",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(message.body)}",
        f"X-Twilio-Signature: {message.signature}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + message.body


def parse_reply(buffer: bytearray) -> Reply | None:
    """Take one complete response off the front of ``buffer``; None if it is not all there."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    length, set_cookie, close = 0, None, False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "content-length":
            length = int(value)
        elif name == "set-cookie":
            set_cookie = value.split(";", 1)[0]
        elif name == "connection":
            close = value.lower() == "close"
    total = end + 4 + length
    if len(buffer) < total:
        return None
    body = bytes(buffer[end + 4 : total])
    del buffer[:total]
    return Reply(status, set_cookie, body, close)


@dataclass
class Flight:
    """A request on its way: whose it is and when it was due (open loop) or sent."""

    conversation: Conversation
    due: float


class Connection:
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.sock = socket.create_connection((target.host, target.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.flight: Flight | None = None

    def send(self, conversation: Conversation, due: float) -> None:
        """Send the conversation's next message."""
        message = conversation.next_message()
        self.flight = Flight(conversation, due)
        self.sock.sendall(request_bytes(self.target, message, conversation.cookie))

    def receive(self) -> Reply | None:
        """Read what has arrived; return the reply once it is complete."""
        data = self.sock.recv(RECV_BYTES)
        if not data:
            raise ConnectionClosed
        self.buffer += data
        return parse_reply(self.buffer)

    def close(self) -> None:
        self.sock.close()


@dataclass
class RunResult:
    """What one run measured."""

    path: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Successful replies per second."""
        return self.completed / self.seconds if self.seconds else 0.0

    def error(self, what: str) -> None:
        """Count one failed request, keeping the first few descriptions."""
        self.errors += 1
        if len(self.examples) < ERROR_EXAMPLES:
            self.examples.append(what)

    def record(self, flight: Flight, reply: Reply, expect: bytes, now: float) -> None:
        """Count a reply: a success if it is a 200 whose body holds ``expect``."""
        flight.conversation.keep(reply.set_cookie)
        if reply.status != 200 or expect not in reply.body:
            self.error(f"{self.path}: HTTP {reply.status} {reply.body[:80]!r}")
        else:
            self.latencies.append(now - flight.due)


def closed_loop(
    target: Target, talks: Sequence[Conversation], seconds: float, expect: bytes
) -> RunResult:
    """Keep one request in flight per conversation, each on its own connection, for ``seconds``."""
    result = RunResult(target.path)
    selector = selectors.DefaultSelector()
    start = time.perf_counter()
    deadline = start + seconds
    for talk in talks:
        conn = Connection(target)
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.send(talk, time.perf_counter())
    while selector.get_map():
        events = selector.select(REPLY_TIMEOUT_S)
        if not events:
            _time_out(selector, result)
            break
        for key, _ in events:
            _closed_step(selector, key.data, result, expect, deadline)
    result.seconds = time.perf_counter() - start
    selector.close()
    return result


def _closed_step(
    selector: selectors.BaseSelector,
    conn: Connection,
    result: RunResult,
    expect: bytes,
    deadline: float,
) -> None:
    """Handle data on one closed-loop connection; send its next request if time remains."""
    flight = conn.flight
    assert flight is not None
    try:
        reply = conn.receive()
    except (ConnectionClosed, OSError) as exc:
        result.error(f"{conn.target.path}: connection lost ({type(exc).__name__})")
        selector.unregister(conn.sock)
        conn.close()
        if time.perf_counter() < deadline:
            conn = Connection(conn.target)
            selector.register(conn.sock, selectors.EVENT_READ, conn)
            conn.send(flight.conversation, time.perf_counter())
        return
    if reply is None:
        return
    now = time.perf_counter()
    result.record(flight, reply, expect, now)
    conn.flight = None
    if now < deadline and not reply.close:
        conn.send(flight.conversation, now)
        return
    selector.unregister(conn.sock)
    conn.close()


def _time_out(selector: selectors.BaseSelector, result: RunResult) -> None:
    """Count every request still waiting as an error and close its connection."""
    for key in list(selector.get_map().values()):
        conn: Connection = key.data
        if conn.flight is not None:
            result.error(f"{conn.target.path}: no reply in {REPLY_TIMEOUT_S:.0f} s")
        selector.unregister(conn.sock)
        conn.close()


@dataclass
class OpenLoop:
    """The state of an open-loop run: the schedule, idle connections and requests waiting."""

    target: Target
    talks: Sequence[Conversation]
    expect: bytes
    max_connections: int
    result: RunResult
    selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    idle: list[Connection] = field(default_factory=list)
    waiting: deque[Flight] = field(default_factory=deque)
    open_count: int = 0
    in_flight: int = 0

    def dispatch(self) -> None:
        """Send waiting requests on idle connections, opening more up to the limit."""
        while self.waiting and (self.idle or self.open_count < self.max_connections):
            conn = self.idle.pop() if self.idle else self._open()
            flight = self.waiting.popleft()
            try:
                conn.send(flight.conversation, flight.due)
            except OSError as exc:
                self.result.error(f"{self.target.path}: send failed ({type(exc).__name__})")
                conn.flight = None
                self._drop(conn)
                continue
            self.in_flight += 1

    def _open(self) -> Connection:
        conn = Connection(self.target)
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)
        self.open_count += 1
        return conn

    def _drop(self, conn: Connection) -> None:
        """Forget a connection, idle or not, and close it."""
        if conn in self.idle:
            self.idle.remove(conn)
        self.selector.unregister(conn.sock)
        conn.close()
        self.open_count -= 1

    def on_readable(self, conn: Connection) -> None:
        """Handle data on one connection."""
        flight = conn.flight
        try:
            reply = conn.receive()
        except (ConnectionClosed, OSError) as exc:
            if flight is not None:
                self.in_flight -= 1
                self.result.error(f"{self.target.path}: connection lost ({type(exc).__name__})")
            self._drop(conn)
            return
        if reply is None or flight is None:
            return
        self.result.record(flight, reply, self.expect, time.perf_counter())
        conn.flight = None
        self.in_flight -= 1
        if reply.close:
            self._drop(conn)
        else:
            self.idle.append(conn)

    def close(self) -> None:
        """Count requests never answered as errors and close every connection."""
        for key in list(self.selector.get_map().values()):
            conn: Connection = key.data
            if conn.flight is not None:
                self.result.error(f"{self.target.path}: no reply in {REPLY_TIMEOUT_S:.0f} s")
            self._drop(conn)
        for _ in self.waiting:
            self.result.error(f"{self.target.path}: never sent")
        self.selector.close()


def open_loop(
    target: Target,
    talks: Sequence[Conversation],
    rate: float,
    seconds: float,
    expect: bytes,
    max_connections: int,
) -> RunResult:
    """Send ``rate`` requests a second for ``seconds`` on schedule, whatever the replies do."""
    run = OpenLoop(target, talks, expect, max_connections, RunResult(target.path))
    total = round(rate * seconds)
    start = time.perf_counter()
    due = 0
    while True:
        now = time.perf_counter()
        while due < total and start + due / rate <= now:
            run.waiting.append(Flight(talks[due % len(talks)], start + due / rate))
            due += 1
        run.dispatch()
        if due >= total and not run.in_flight and not run.waiting:
            break
        wait = start + due / rate - now if due < total else REPLY_TIMEOUT_S
        events = run.selector.select(max(wait, 0.0))
        if not events and due >= total:
            break  # nothing arrived within the timeout: what is left has failed
        for key, _ in events:
            run.on_readable(key.data)
    run.result.seconds = time.perf_counter() - start
    run.close()
    return run.result
