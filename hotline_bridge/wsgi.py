"""The WSGI entry point for gunicorn (``hotline_bridge.wsgi:app``).

Loaded once in gunicorn's master with ``--preload``, so the offline ZIP table is read before the
workers fork and the first person to send a ZIP code does not wait for it.
"""

from hotline_bridge import create_app
from hotline_bridge.directory import nearby

app = create_app()
nearby.warm_up()
