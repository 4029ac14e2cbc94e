"""Moved: 'Reply CALL' is the SMS channel's (``hotline_bridge.channels.sms.callback``).

Only ``checks.py`` still imports it from here; once it imports the SMS channel's module, this
file goes, and ``tests/webhooks/test_layers.py`` holds every module of ``webhooks`` to
importing no channel.
"""

from hotline_bridge.channels.sms.callback import inventory, line_number, with_offer

__all__ = ["inventory", "line_number", "with_offer"]
