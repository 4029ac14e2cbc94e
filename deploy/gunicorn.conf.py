"""Gunicorn settings for hotline-bridge (``hotline-bridge serve`` and the systemd unit use them).

Command-line options (``--bind``, ``--workers``) override what is set here.
"""

import os
import shutil
import tempfile
from typing import Any

from gunicorn import glogging

wsgi_app = "hotline_bridge.wsgi:app"
bind = os.environ.get("HOTLINE_BRIDGE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("HOTLINE_BRIDGE_WORKERS", "2"))

# Twilio waits 15 seconds for a webhook, then uses the fallback URL; a stuck worker is killed
# well before that so the next request is answered.
timeout = 10
graceful_timeout = 5
keepalive = 5

# The app (flow, catalogs, offline ZIP table) is loaded once before the workers fork.
preload_app = True

# Gunicorn 27's control socket is one path in the user's home shared by every instance on the
# machine, and nothing here uses it; older versions ignore the setting.
control_socket_disable = True

loglevel = "info"
# No access log: a kiosk address or a voice action URL can hold a ZIP code someone entered.
# Request counts and latency are in /metrics instead, by route pattern. An operator who turns
# one on (--access-logfile) gets addresses without their query strings (below).
accesslog = None


class Logger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's logger, whose access log never holds what a person typed.

    The kiosk's ZIP keypad sends the digits typed so far as a query string (``?zip=021``), and
    a voice action URL carries the caller's place in its query; a referrer or a redirect's
    ``Location`` can repeat either. So whatever ``access_log_format`` says, the request line is
    written without its query string and those atoms are blank.
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("RAW_URI", "").split("?", 1)[0]
        request_line = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms.update(r=request_line, q="", f="-")
        for name in ("{referer}i", "{location}o"):
            if name in atoms:
                atoms[name] = "-"
        return atoms


logger_class = Logger

# Each worker writes its metrics to files in one folder so that a scrape of /metrics adds up
# every worker. The folder must be empty at start; a fresh one is made unless systemd gives one.
_made_here = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made_here:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="hotline-bridge-metrics-")


def on_starting(server: object) -> None:
    """Empty the metrics folder left by an earlier run."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)


def child_exit(server: object, worker: Any) -> None:
    """Stop reporting a dead worker's live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: object) -> None:
    """Remove the metrics folder made for this run."""
    if _made_here:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
