"""The printed poster gives the privacy page's address, in each language, once the deployment
names its public address; the wallet card stays as it is."""

from __future__ import annotations

from typing import Any

import pytest

from hotline_bridge.printing import Request, print_pdf
from tests.printing.test_print import add_sites, pages_text


@pytest.mark.parametrize("kind", ["poster", "tabs"])
def test_the_poster_names_the_privacy_page_in_each_language(make_app: Any, kind: str) -> None:
    app = make_app(PUBLIC_URL="https://line.example.org")
    add_sites(app)
    text = " ".join(pages_text(print_pdf(app, Request("riverside", kind, "both"))))
    assert "Privacy: line.example.org/privacy/en" in text
    assert "Privacidad: line.example.org/privacy/es" in text


def test_without_a_public_address_nothing_is_added(make_app: Any) -> None:
    app = make_app()
    add_sites(app)
    text = " ".join(pages_text(print_pdf(app, Request("riverside", "poster", "both"))))
    assert "Privacy" not in text and "Privacidad" not in text


def test_the_wallet_card_is_unchanged(make_app: Any) -> None:
    app = make_app(PUBLIC_URL="https://line.example.org")
    add_sites(app)
    text = " ".join(pages_text(print_pdf(app, Request("riverside", "wallet", "both"))))
    assert "/privacy" not in text
