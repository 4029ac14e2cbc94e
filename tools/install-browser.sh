#!/usr/bin/env bash
# Install Debian's Chromium for the kiosk browser tests, unless it is already there.
# Playwright drives it through executable_path; it never downloads a browser of its own.
# The fonts are what the kiosk's screenshots are drawn with (it loads no web fonts).
set -euo pipefail
PACKAGES=(chromium fonts-dejavu-core)
bash "$(dirname "$0")/apt-install.sh" "${PACKAGES[@]}"
# Debian's launcher script prints a harmless shell warning on some machines; keep only the version.
/usr/bin/chromium --version 2>/dev/null
