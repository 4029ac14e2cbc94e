"""Rewrite the README's settings table from the one list in hotline_bridge/settings.py."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
TABLE = re.compile(r"SETTINGS_TABLE|\| Variable \| Default \| What it does \|\n(?:\|.*\|\n)+")

table = subprocess.run(
    [sys.executable, "-c", "from hotline_bridge.cli import main; main()", "settings", "--markdown"],
    capture_output=True,
    text=True,
    check=True,
).stdout
text = README.read_text(encoding="utf-8")
README.write_text(TABLE.sub(lambda _m: table.rstrip("\n") + "\n", text, count=1), encoding="utf-8")
