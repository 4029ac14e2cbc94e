"""The server's front page (``GET /``): a small page in every language that points to the lobby
screen and to the staff console. It may be read over a shoulder in a lobby, so it names only the
program's neutral name, and it keeps nothing about whoever opens it."""

from __future__ import annotations

from flask import Flask, render_template, url_for

from hotline_bridge.runtime import runtime


def init_app(app: Flask) -> None:
    """Register ``GET /``."""

    @app.get("/")
    def home() -> str:
        """Point to the kiosk and the console, in every language of the catalogs."""
        catalogs = runtime().catalogs
        parts = []
        for lang in catalogs.languages:
            words = catalogs.bind(lang)
            parts.append(
                {
                    "lang": lang,
                    "name": words.t("program.name"),
                    "kiosk": words.t("home.kiosk"),
                    "console": words.t("home.console"),
                }
            )
        return render_template(
            "home.html",
            parts=parts,
            kiosk_url=url_for("kiosk.page"),
            console_url=url_for("console.sign_in"),
        )
