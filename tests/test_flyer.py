"""Printed campaign flyers (bot/flyer.py, `screener flyer`): the codes on paper open the right
conversation, in the flyer's language, and Indic scripts are printed shaped."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest

from bot.cli import main
from bot.flyer import FONTS_DIR, FlyerError, FlyerTexts, flyer_pdf, render_flyer

pytestmark = pytest.mark.skipif(
    not (FONTS_DIR / "NotoSansGurmukhi-Regular.ttf").is_file(),
    reason="flyers need the Noto fonts: install fonts-noto-core (scripts/setup does as root)")

PUNJABI = "%E0%A8%AA%E0%A9%B0%E0%A8%9C%E0%A8%BE%E0%A8%AC%E0%A9%80"  # ਪੰਜਾਬੀ, percent-encoded


def links(content, body: str) -> set[str]:
    number = content.campaigns.number
    return {f"sms:{number}?body={body}", f"https://wa.me/{number.lstrip('+')}?text={body}"}


def decoded(png: bytes) -> set[str]:
    import zxingcpp
    from PIL import Image

    return {code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))}


@pytest.mark.parametrize(("campaign", "lang", "body"), [
    ("mela_2027", "hi", "MELA"),  # a Hindi campaign: its keyword alone starts in Hindi
    ("sjsu_spring_2027", "pa", f"SJSU%20{PUNJABI}"),  # no language: the name says Punjabi
])
def test_hindi_and_punjabi_flyers_print_codes_that_scan_to_exactly_the_links(
        content, campaign, lang, body):
    flyer = render_flyer(content, campaign, lang)
    assert flyer.pdf.startswith(b"%PDF")
    assert {flyer.sms_link, flyer.whatsapp_link} == links(content, body)
    assert decoded(flyer.png) == links(content, body)


def test_a_flyer_in_another_language_than_the_campaigns_adds_the_language_name(content):
    assert render_flyer(content, "feria_salud_2027", "en").sms_link.endswith(
        "?body=FERIA%20English")
    assert render_flyer(content, "feria_salud_2027", "es").sms_link.endswith("?body=FERIA")


HINDI = FlyerTexts(  # conjuncts (स्वास्थ्य, क्ष), a reordered matra (कि), a nukta (फ़्त)
    title="लाभ खोजने में मुफ़्त मदद",
    lines=("देखें कि आपको खाना, स्वास्थ्य और पैसों की कौन-सी मदद मिल सकती है।",
           "इसमें लगभग 5 मिनट लगते हैं।", "हम कभी आपकी इमिग्रेशन स्थिति के बारे में नहीं पूछते।"),
    text_us="MELA को (408) 555-0100 पर टेक्स्ट करें",
    scan_sms="टेक्स्ट करने के लिए स्कैन करें", scan_whatsapp="WhatsApp के लिए स्कैन करें")


def glyphs_of_several_letters(pdf: bytes) -> set[str]:
    """The text each glyph stands for (ToUnicode maps), where a glyph stands for two or more
    Devanagari letters: a conjunct or a letter with its matra, drawn as one shaped glyph.
    Unshaped, every glyph is one code point."""
    found = set()
    for match in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", pdf):
        raw = pdf[match.end():match.end() + int(match[1])]
        try:
            stream = zlib.decompress(raw)
        except zlib.error:
            stream = raw
        if b"beginbfchar" not in stream:
            continue
        for hexes in re.findall(rb"<[0-9A-F]{4}> <([0-9A-F]{8,})>", stream):
            text = bytes.fromhex(hexes.decode()).decode("utf-16-be")
            if all("\u0900" <= char <= "\u097f" for char in text):
                found.add(text)
    return found


def test_indic_text_is_shaped_into_conjunct_glyphs_not_printed_letter_by_letter(monkeypatch):
    shaped = glyphs_of_several_letters(flyer_pdf(HINDI, "hi", "sms:+1", None))
    assert {"स्थ्", "क्ष"} & shaped, shaped  # HarfBuzz: one glyph for a conjunct

    import fpdf  # the same flyer with shaping switched off has no such glyph: the check bites
    monkeypatch.setattr(fpdf.FPDF, "set_text_shaping", lambda self, *a, **k: None)
    assert glyphs_of_several_letters(flyer_pdf(HINDI, "hi", "sms:+1", None)) == set()


def test_uharfbuzz_itself_draws_the_conjunct_as_fewer_glyphs_than_letters():
    import uharfbuzz

    face = uharfbuzz.Face((FONTS_DIR / "NotoSansDevanagari-Regular.ttf").read_bytes())
    buffer = uharfbuzz.Buffer()
    buffer.add_str("स्वास्थ्य")
    buffer.guess_segment_properties()
    uharfbuzz.shape(uharfbuzz.Font(face), buffer, {})
    assert len(buffer.glyph_infos) < len("स्वास्थ्य")


def test_cli_writes_the_pdf_and_its_png_and_prints_both_paths(content, monkeypatch, tmp_path,
                                                               capsys):
    monkeypatch.setattr("bot.cli.load_content", lambda: content)
    out = tmp_path / "mela-hi.pdf"
    assert main(["flyer", "mela_2027", "--lang", "hi", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out), str(out.with_suffix(".png"))]
    assert out.read_bytes().startswith(b"%PDF")
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


def test_cli_refuses_an_unknown_campaign_in_one_sentence_naming_the_known_ones(
        content, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("bot.cli.load_content", lambda: content)
    out = tmp_path / "x.pdf"
    assert main(["flyer", "feria_2026", "--lang", "es", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and error.endswith(".") and "Traceback" not in error
    assert "feria_2026" in error and "feria_salud_2027" in error and "mela_2027" in error
    assert not out.exists()


def test_cli_refuses_an_unknown_language_naming_the_five(content, monkeypatch, tmp_path,
                                                       capsys):
    monkeypatch.setattr("bot.cli.load_content", lambda: content)
    assert main(["flyer", "mela_2027", "--lang", "fr", "--out", str(tmp_path / "x.pdf")]) == 2
    assert capsys.readouterr().err.strip() == (
        "There is no flyer language 'fr'; the languages are: en, es, hi, pa, vi.")


def test_missing_fonts_are_one_sentence_naming_the_package(content, monkeypatch,
                                                           tmp_path: Path):
    monkeypatch.setenv("FLYER_FONTS_DIR", str(tmp_path))
    with pytest.raises(FlyerError, match="install the fonts-noto-core package"):
        render_flyer(content, "gurdwara_sangat_2027", "pa")
