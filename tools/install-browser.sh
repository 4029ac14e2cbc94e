#!/usr/bin/env bash
# Install Debian's Chromium for the kiosk browser tests, unless it is already there.
# Playwright drives it through executable_path; it never downloads a browser of its own.
# The fonts are what the kiosk's screenshots are drawn with (it loads no web fonts).
set -euo pipefail
PACKAGES=(chromium fonts-dejavu-core)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Debian's launcher script prints a harmless shell warning on some machines; keep only the version.
/usr/bin/chromium --version 2>/dev/null
