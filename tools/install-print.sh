#!/usr/bin/env bash
# Install what the printed cards and posters need from Debian, unless it is already there:
# Pango (WeasyPrint lays out text with it), the DejaVu fonts the PDFs embed (they cover Spanish),
# and poppler-utils, whose pdftoppm draws the test renderings of each PDF.
set -euo pipefail
PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils)
bash "$(dirname "$0")/apt-install.sh" "${PACKAGES[@]}"
