"""Starting the app for commands that answer no webhook, so they need no production secrets."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import update_wrapper
from typing import Any

import click
from flask import current_app
from flask.cli import ScriptInfo

from hotline_bridge import settings


def offline_config() -> dict[str, object]:
    """Return made-up secrets for those the environment does not set.

    Commands that only read and write the directory (or sign their own in-process requests)
    answer no webhook, so they need no production secrets.
    """
    made_up: dict[str, object] = {
        name: secrets.token_hex(32)
        for name in ("SECRET_KEY", "TWILIO_AUTH_TOKEN")
        if not os.environ.get(f"{settings.ENV_PREFIX}_{name}")
    }
    return {**made_up, settings.OFFLINE: True}  # nor the address Twilio posts to


def with_offline_app(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``command`` in the app's context, as Flask's ``with_appcontext`` does, but start the
    app with ``offline_config`` when it is the command line's own (tests bring their own app)."""

    @click.pass_context
    def decorator(click_ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from hotline_bridge.cli import load_app  # the command group imports this module

        if not current_app:
            info = click_ctx.ensure_object(ScriptInfo)
            app = load_app(offline_config()) if info.create_app is load_app else info.load_app()
            click_ctx.with_resource(app.app_context())
        return click_ctx.invoke(command, *args, **kwargs)

    return update_wrapper(decorator, command)
