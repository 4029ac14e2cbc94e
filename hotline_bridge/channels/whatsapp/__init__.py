"""The WhatsApp line: the same flow on Twilio's WhatsApp senders, which post to the Messaging
webhook with ``whatsapp:+1…`` addresses (``create_app`` hands ``TEXT_CHANNEL`` to the SMS
channel, which answers that webhook).

WhatsApp has no SMS segments to count, so replies carry every detail; its safety tips speak of
what WhatsApp keeps (archived chats, cloud backups, notification previews) through the catalog
keys prefixed ``whatsapp.``. A site chooses its WhatsApp sender like a number: list the sender
(``whatsapp:+1…`` or the bare number) among the site's numbers.
"""

from __future__ import annotations

from hotline_bridge.channels import text
from hotline_bridge.directory.models import Site
from hotline_bridge.engine.catalogs import Catalogs, Words
from hotline_bridge.engine.conversation import Outcome
from hotline_bridge.engine.flow import Flow
from hotline_bridge.engine.screen import Screen
from hotline_bridge.engine.step import Capabilities

CHANNEL = "whatsapp"
PREFIX = "whatsapp:"

# Like SMS, a ZIP code may be sent at any prompt.
CAPABILITIES = Capabilities(keyed=True, zip_anywhere=True)


def capabilities(catalogs: Catalogs, flow: Flow, site: Site) -> Capabilities:
    """Return what the WhatsApp line can do (the same at every site)."""
    return CAPABILITIES


def write(
    words: Words, flow: Flow, site: Site, outcome: Outcome, hotline_phone: str, to: str = ""
) -> str | None:
    """Return the WhatsApp reply to an outcome of the conversation (None: stay silent)."""
    return text.answer(words, CHANNEL, flow, site, outcome, hotline_phone, _compose)


def _compose(words: Words, flow: Flow, site: Site, screen: Screen, opening: str | None) -> str:
    # No segments to count on WhatsApp: every reply carries all its detail.
    return text.reply(words, CHANNEL, flow, site, screen, opening=opening)


# The messages that come through a WhatsApp sender, answered at the SMS channel's ``POST /sms``.
TEXT_CHANNEL = text.TextChannel(CHANNEL, capabilities, write, prefix=PREFIX)
