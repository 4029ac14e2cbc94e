"""A picture of a PDF's first page, drawn on the server by poppler's pdftoppm, so the console can
show what will print without the browser loading the PDF or anything from elsewhere."""

from __future__ import annotations

import shutil
import subprocess

# The long side of the picture, in pixels: enough to read a card's lines on a screen.
LONG_SIDE = 900
# How long drawing one page may take before the page is shown without its picture.
TIMEOUT_SECONDS = 30


def first_page_png(document: bytes, long_side: int = LONG_SIDE) -> bytes | None:
    """Return the first page of ``document`` as a PNG, or None when pdftoppm is not installed
    (``tools/install-print.sh`` installs it) or cannot draw it."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        return None
    command = [pdftoppm, "-png", "-f", "1", "-l", "1", "-singlefile"]
    command += ["-scale-to", str(long_side), "-"]  # read the PDF from standard input
    try:
        drawn = subprocess.run(
            command, input=document, capture_output=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    png = drawn.stdout
    return png if drawn.returncode == 0 and png.startswith(b"\x89PNG") else None
