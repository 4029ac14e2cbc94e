"""Redraw the README's kiosk screenshots (docs/kiosk-*.png) from the demo directory.

Serves the app on a temporary database with the demo sites and services, and captures one
portrait lobby screen and one landscape screen in Debian's Chromium, drawn at a fraction of their
size so that the files stay small. Run it with the venv's Python after changing the kiosk's look.
"""

import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from hotline_bridge import create_app
from hotline_bridge.cli import main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo"
# (file, viewport, address): the home page upright, a service's page on its side.
SHOTS = [
    ("kiosk-portrait.png", (1080, 1920), "/kiosk/demo-clinic/en"),
    ("kiosk-landscape.png", (1920, 1080), "/kiosk/demo-clinic/es/service:nhth?back=lines"),
]
# Drawn at 40% of the screen's pixels: enough to see the layout, a few dozen kilobytes each.
SCALE = 0.4


def serve(database: Path) -> str:
    app = create_app({"DATABASE": str(database), "TESTING": True})
    for name in ("sites.csv", "services.csv"):
        result = app.test_cli_runner().invoke(main, ["import", str(DEMO / name)])
        if result.exit_code:
            sys.exit(result.output)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def main_() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = serve(Path(tmp) / "hotline.db")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for name, (width, height), path in SHOTS:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, device_scale_factor=SCALE
                )
                page = context.new_page()
                page.goto(base + path)
                page.screenshot(path=ROOT / "docs" / name)
                context.close()
            browser.close()


if __name__ == "__main__":
    main_()
