"""axe-core in the test browser: read once, run on any page.

A context that will have many pages checked holds axe-core from the start of each document
(``hold_axe``): evaluating its 570 kB into every page after it loaded took a third of each
kiosk layout case. Any other page gets it when it is first checked.
"""

from __future__ import annotations

from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

AXE_SCRIPT: str = Axe().axe_script
# The whole document, reporting violations only (what ``Axe().run`` asks by default).
AXE_RUN = "axe.run(document, {resultTypes: ['violations']})"


def hold_axe(context: BrowserContext) -> None:
    """Give every document of ``context`` axe-core as it starts."""
    context.add_init_script(AXE_SCRIPT)


def axe_violations(page: Page) -> AxeResults:
    """Run axe-core on the page as it is now, first giving it axe-core if it has none."""
    if page.evaluate("typeof axe === 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    return AxeResults(page.evaluate(AXE_RUN))
