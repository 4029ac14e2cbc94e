"""``webhooks`` is the Twilio library the channels use; it never reaches back into a channel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hotline_bridge.settings import PROJECT_ROOT

WEBHOOKS = PROJECT_ROOT / "hotline_bridge" / "webhooks"


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(WEBHOOKS.glob("*.py")), ids=lambda p: p.name)
def test_no_webhooks_module_imports_a_channel(path: Path) -> None:
    channels = {name for name in imported(path) if name.startswith("hotline_bridge.channels")}
    assert not channels, (path.name, channels)


def test_importing_the_twilio_library_loads_no_channel() -> None:
    import subprocess
    import sys

    program = (
        "import sys\nimport hotline_bridge.webhooks, hotline_bridge.webhooks.records\n"
        "import hotline_bridge.webhooks.forget\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert not [name for name in done.stdout.split() if name.startswith("hotline_bridge.channels")]
