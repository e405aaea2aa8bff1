"""The printed flyer for an outreach campaign (`screener flyer`, docs/flyers.md): one page
with the title, three lines, "Text KEYWORD to (408) 555-0100" and two QR codes, one that opens
a text to the line and one that opens WhatsApp, both with the keyword already typed.

Gurmukhi and Devanagari need shaping (conjuncts, reordered and stacked matras) and Vietnamese
stacks two marks on one letter, so the PDF is written by fpdf2 with HarfBuzz shaping on and
Noto fonts; a flyer printed without shaping would be misspelt in the very script it is for.
Everything here is pure apart from reading the fonts, so a staff web page can call
`render_flyer` as the command does.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.content import Content

if TYPE_CHECKING:
    from fpdf import FPDF

FONTS_DIR = Path("/usr/share/fonts/truetype/noto")  # Debian's fonts-noto-core
FONTS_PACKAGE = "fonts-noto-core"
# Noto families by script; each flyer loads the ones its texts use, its language's first.
FAMILIES = {"latin": "NotoSans", "devanagari": "NotoSansDevanagari",
            "gurmukhi": "NotoSansGurmukhi"}
SCRIPT_OF_LANG = {"en": "latin", "es": "latin", "vi": "latin", "hi": "devanagari",
                  "pa": "gurmukhi"}
_SCRIPT_RANGES = (("devanagari", 0x0900, 0x097F), ("gurmukhi", 0x0A00, 0x0A7F))
_COMMON = {0x0964, 0x0965}  # the dandas: in both Indic fonts, never needing Latin's

PAGE_W, PAGE_H, MARGIN = 215.9, 279.4, 16.0  # US Letter, in mm
QR_SIDE = 80.0  # mm, quiet zone included: the code itself is about 2.4 inches across
PREVIEW_DPI = 150
NBSP = "\u00a0"


@dataclass(frozen=True)
class Flyer:
    pdf: bytes
    png: bytes  # page 1 at about 150 dpi, to look at before printing
    sms_link: str
    whatsapp_link: str | None  # None when the line has no WhatsApp number


@dataclass(frozen=True)
class FlyerTexts:
    """What the flyer prints, already in its language."""

    title: str
    lines: tuple[str, ...]
    text_us: str
    scan_sms: str
    scan_whatsapp: str


class FlyerError(Exception):
    """A flyer that cannot be made, said in one sentence for staff (no traceback)."""


def render_flyer(content: Content, campaign_id: str, lang: str) -> Flyer:
    """The flyer of campaign `campaign_id` in `lang`, or FlyerError naming what is known."""
    campaigns = content.campaigns
    campaign = campaigns.get(campaign_id)
    if campaign is None:
        known = ", ".join(c.id for c in campaigns.campaigns) or "none"
        raise FlyerError(f"There is no campaign '{campaign_id}' in flows/campaigns.yaml; "
                         f"the campaigns are: {known}.")
    if lang not in content.flow.languages or lang not in SCRIPT_OF_LANG:
        known = ", ".join(code for code in content.flow.languages if code in SCRIPT_OF_LANG)
        raise FlyerError(f"There is no flyer language '{lang}'; the languages are: {known}.")
    if not campaigns.number:
        raise FlyerError("flows/campaigns.yaml has no `settings: number:` to print on flyers.")
    keyword = campaign.keywords[0]
    name = content.flow.languages[lang].name if campaign.lang != lang else None
    body = message_body(keyword, name)
    sms = sms_link(campaigns.number, body)
    whatsapp = whatsapp_link(campaigns.whatsapp_number, body)
    texts = FlyerTexts(
        title=content.message(lang, "flyer_title"),
        lines=tuple(content.message(lang, key) for key in
                    ("flyer_line_what", "flyer_line_how", "flyer_line_private")),
        text_us=content.message(lang, "flyer_text_us", keyword=keyword,  # number unbroken:
                                number=printed_number(campaigns.number).replace(" ", NBSP)),
        scan_sms=content.message(lang, "flyer_scan_sms"),
        scan_whatsapp=content.message(lang, "flyer_scan_whatsapp"),
    )
    pdf = flyer_pdf(texts, lang, sms, whatsapp)
    return Flyer(pdf=pdf, png=pdf_preview(pdf), sms_link=sms, whatsapp_link=whatsapp)


def message_body(keyword: str, language_name: str | None = None) -> str:
    """The first message the codes type for the resident: the keyword, then the flyer
    language's own name when the keyword alone would start in another language (or in none),
    so the conversation starts in the language the resident read the flyer in."""
    return f"{keyword} {language_name}" if language_name else keyword


def sms_link(number: str, body: str) -> str:
    """`sms:+14085550100?body=FERIA`: opens the phone's messages with the text typed."""
    return f"sms:{number}?body={quote(body, safe='')}"


def whatsapp_link(number: str, body: str) -> str | None:
    """`https://wa.me/14085550100?text=FERIA` (wa.me wants the digits only), or None when
    the line has no WhatsApp number."""
    digits = re.sub(r"\D", "", number or "")
    return f"https://wa.me/{digits}?text={quote(body, safe='')}" if digits else None


def printed_number(number: str) -> str:
    """`+14085550100` as people in San José write it, `(408) 555-0100`; other numbers as
    they are."""
    found = re.fullmatch(r"\+?1?(\d{3})(\d{3})(\d{4})", re.sub(r"[\s().-]", "", number))
    return f"({found[1]}) {found[2]}-{found[3]}" if found else number


def scripts_in(texts: FlyerTexts, lang: str) -> list[str]:
    """The scripts the flyer's texts use, its language's first: the fonts it needs."""
    found = {SCRIPT_OF_LANG[lang]}
    everything = " ".join((texts.title, *texts.lines, texts.text_us, texts.scan_sms,
                           texts.scan_whatsapp))
    for char in everything:
        code = ord(char)
        script = next((s for s, low, high in _SCRIPT_RANGES if low <= code <= high), None)
        if script:
            found.add(script)
        elif not char.isspace() and code not in _COMMON:
            found.add("latin")  # letters, digits, punctuation: NotoSans has them all
    return sorted(found, key=lambda s: (s != SCRIPT_OF_LANG[lang], s))


def font_files(scripts: list[str], folder: Path | None = None) -> dict[tuple[str, str], Path]:
    """The regular ("") and bold ("B") Noto file of each script's family, from
    FLYER_FONTS_DIR when set; FlyerError in one sentence naming the package when one is
    missing."""
    folder = folder or Path(os.environ.get("FLYER_FONTS_DIR") or FONTS_DIR)
    files = {(FAMILIES[s], style): folder / f"{FAMILIES[s]}-{weight}.ttf"
             for s in scripts for style, weight in (("", "Regular"), ("B", "Bold"))}
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        raise FlyerError(f"Flyers need the font {missing[0]} in {folder}: install the "
                         f"{FONTS_PACKAGE} package (sudo apt-get install {FONTS_PACKAGE}) or "
                         "point FLYER_FONTS_DIR at a folder of Noto fonts.")
    return files


def flyer_pdf(texts: FlyerTexts, lang: str, sms: str, whatsapp: str | None,
              fonts: Mapping[tuple[str, str], Path] | None = None) -> bytes:
    """The one-page PDF, its contents centred on the page. Long translations shrink the text
    until all of it fits one page."""
    scripts = scripts_in(texts, lang)
    fonts = fonts or font_files(scripts)
    families = [FAMILIES[s] for s in scripts]
    for step in range(12):
        scale = 0.92 ** step
        pdf = _draw(texts, lang, sms, whatsapp, fonts, families, scale, 0)
        if pdf.page_no() == 1:
            spare = PAGE_H - MARGIN - pdf.get_y()
            centred = _draw(texts, lang, sms, whatsapp, fonts, families, scale, spare / 2)
            return bytes((centred if centred.page_no() == 1 else pdf).output())
    raise FlyerError("The flyer's texts are too long to fit one page, even in small print.")


def _draw(texts: FlyerTexts, lang: str, sms: str, whatsapp: str | None,
          fonts: Mapping[tuple[str, str], Path], families: list[str], scale: float,
          top: float) -> FPDF:
    """The flyer at `scale` of its full type sizes, `top` mm lower; a second page when it
    does not fit, which the caller reads as "smaller"."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.set_title(texts.title)
    pdf.set_lang(lang)
    for (family, style), path in fonts.items():
        pdf.add_font(family, style, str(path))
    pdf.set_fallback_fonts(families[1:], exact_match=False)
    pdf.set_text_shaping(True, language=lang)
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    def paragraph(text: str, size: float, bold: bool = False, after: float = 0) -> None:
        pdf.set_font(families[0], "B" if bold else "", size * scale)
        pdf.multi_cell(width, size * scale * 0.5, text, align="C",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(after * scale)

    pdf.ln(top)
    paragraph(texts.title, 32, bold=True, after=10)
    for line in texts.lines:
        paragraph(line, 18, after=5)
    pdf.ln(6 * scale)
    paragraph(texts.text_us, 30, bold=True, after=10)
    codes = [(sms, texts.scan_sms)] + ([(whatsapp, texts.scan_whatsapp)] if whatsapp else [])
    gap = 16.0
    left = (PAGE_W - len(codes) * QR_SIDE - (len(codes) - 1) * gap) / 2
    codes_top = pdf.get_y()
    if codes_top + QR_SIDE > PAGE_H - MARGIN:
        pdf.add_page()  # does not fit: the caller tries smaller print (so does a caption)
        return pdf
    bottom = codes_top
    for index, (link, caption) in enumerate(codes):
        x = left + index * (QR_SIDE + gap)
        _qr(pdf, link, x, codes_top, QR_SIDE)
        pdf.set_xy(x - gap / 2, codes_top + QR_SIDE + 1)
        pdf.set_font(families[0], "", 15 * scale)
        pdf.multi_cell(QR_SIDE + gap, 15 * scale * 0.5, caption, align="C",
                       new_x="LEFT", new_y="NEXT")
        bottom = max(bottom, pdf.get_y())
    pdf.set_y(bottom)
    return pdf


def _qr(pdf: FPDF, data: str, x: float, y: float, side: float) -> None:
    """A QR code drawn as vector squares (sharp at any printer resolution), its quiet zone
    of four modules included in `side`. Error correction at least Q: flyers get folded."""
    import segno

    code = segno.make_qr(data, error="q", boost_error=True)
    rows = list(code.matrix_iter(border=4))
    module = side / len(rows)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, side, side, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(rows):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            start = column
            while column < len(row) and row[column]:
                column += 1
            pdf.rect(x + start * module, y + row_index * module,
                     (column - start) * module, module, style="F")


def pdf_preview(pdf: bytes, dpi: int = PREVIEW_DPI) -> bytes:
    """Page 1 of `pdf` as a PNG, drawn by PDFium: what a printer will put on paper."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
