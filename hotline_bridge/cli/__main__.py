"""``python -m hotline_bridge.cli``: the same command as ``hotline-bridge``."""

from hotline_bridge.cli import main

main()
