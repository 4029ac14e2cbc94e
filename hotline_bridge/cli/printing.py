"""``hotline-bridge print``: safety cards, stickers, posters and tear-off flyers as a PDF."""

from __future__ import annotations

from pathlib import Path

import click

from hotline_bridge.cli.offline import offline_config
from hotline_bridge.printing import (
    ARRANGEMENTS,
    BOTH,
    KINDS,
    POSTER_SIZES,
    PrintRefused,
    Request,
    print_languages,
    render,
)


@click.command("print")
@click.argument("site")
@click.option("--kind", type=click.Choice(sorted(KINDS)), required=True, help="What to print.")
@click.option(
    "--lang",
    default=BOTH,
    show_default=True,
    help="A language of the catalogs (en, es, or one added as a folder of locales/), or both: "
    "English and Spanish.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The PDF file to write (nothing is written when the print is refused).",
)
@click.option(
    "--both-as",
    "arrangement",
    type=click.Choice(ARRANGEMENTS),
    default=ARRANGEMENTS[0],
    show_default=True,
    help="With both languages: side by side on every face, or one language per side (wallet) "
    "or per page.",
)
@click.option(
    "--size",
    type=click.Choice(sorted(POSTER_SIZES)),
    default="letter",
    show_default=True,
    help="Poster size: US Letter or 11 x 17 in (tabloid).",
)
@click.option(
    "--qr/--no-qr",
    default=None,
    help="Add a QR code that opens the text message ready to send (default: posters only).",
)
@click.option("--number", default=None, help="Which of the site's numbers to print.")
@click.option(
    "--keyword",
    "keywords",
    multiple=True,
    help="The keyword(s) to print (repeat for each language); default: the first of the site's "
    "keywords, then greetings, that opens its menu in the card's language.",
)
def print_command(site: str, out: Path, keywords: tuple[str, ...], **options: object) -> None:
    """Print safety cards (wallet), restroom stickers, posters or a tear-off flyer for SITE.

    Before writing anything, every printed number and keyword is texted to the line through
    the app, and the PDF is written only if the reply is SITE's own menu in the card's
    language; the 24/7 line and 911 come only from the checked national reference.
    """
    from hotline_bridge.cli import load_app  # the group that holds this one

    app = load_app(offline_config())
    choices = print_languages(app.extensions["hotline_bridge"].catalogs.languages)
    if options["lang"] not in choices:
        raise click.BadParameter(f"choose one of {', '.join(choices)}", param_hint="--lang")
    request = Request(site=site, keywords=keywords, **options)  # type: ignore[arg-type]
    try:
        printed = render(app, request)
    except PrintRefused as refusal:
        raise click.ClickException(refusal.text("en")) from None
    out.write_bytes(printed.pdf)
    proofs = ", ".join(f"{w.lang} {w.sms_uri}" for w in printed.wordings)
    words = app.extensions["hotline_bridge"].catalogs.bind("en")
    click.echo(words.t("print.written", path=out, pages=printed.pages, proofs=proofs))
