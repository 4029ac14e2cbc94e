"""hotline-bridge: a discreet, bilingual SMS, voice and kiosk line to 24/7 and local help.

The package root loads nothing: ``from hotline_bridge import create_app`` loads the web app
(Flask, Twilio, the database) on first use, so the engine can be imported and used alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotline_bridge.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from hotline_bridge.app import create_app

        return create_app
    raise AttributeError(f"module 'hotline_bridge' has no attribute {name!r}")
