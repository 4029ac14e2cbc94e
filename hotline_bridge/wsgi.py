"""The WSGI entry point for gunicorn (``hotline_bridge.wsgi:app``).

Loaded once in gunicorn's master with ``--preload``, so the offline ZIP table is read before the
workers fork and the first person to send a ZIP code does not wait for it.
"""

import sys

from hotline_bridge import create_app
from hotline_bridge.cli import STARTUP_ERRORS
from hotline_bridge.directory import nearby

try:
    app = create_app()
except STARTUP_ERRORS as exc:  # one line in the journal, as ``serve`` says it, not a traceback
    sys.exit(f"cannot start: {exc}")
nearby.warm_up()
