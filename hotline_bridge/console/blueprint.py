"""The console's blueprint, shared by its route modules."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

CONSOLE_DIR = Path(__file__).parent

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
