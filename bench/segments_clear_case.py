"""SMS segments of the clear case (issue 14) per language: the texts before and after.

The clear case (bot/i18n/segments_report.CLEAR_CASE: a single 20-year-old in ZIP 95112,
$1,200 a month from 20+ hours of work, nothing else to ask about) runs through today's engine
twice in one run: with the flows and catalogs as they were before the texts were shortened
(`--baseline`, read with `git archive`) and as they are now. Every text from the first message
to the first results page is counted as Twilio bills it (bot/segments.py). The issue's own
figures, measured from outside before any of its work, are quoted beside them.

    .venv/bin/python bench/segments_clear_case.py [--baseline COMMIT] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from report import write_section  # bench/report.py, beside this script

from bot.content import Content, load_content
from bot.i18n.segments_report import Screening, clear_case, clear_case_target
from bot.segments import count

SECTION = "## Segments for the clear case"
BASELINE = "0e96759"  # main before issue 14: old texts, 3-segment results pages
ROOT = Path(__file__).resolve().parent.parent
# Issue 14 as filed: Twilio's segment calculator on the texts a resident received.
ISSUE = {"en": (15, 12), "es": (21, 13), "vi": (22, 13), "pa": (23, 13), "hi": (22, 13)}
SKIPPABLE = "has_health_insurance"  # the question the engine now skips in this case


def content_at(commit: str, folder: Path) -> Content:
    """The flows and catalogs of `commit`, loaded with today's code."""
    archive = subprocess.run(["git", "archive", commit, "flows", "translations"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return load_content(folder / "flows", folder / "translations")


def cell(screening: Screening) -> str:
    return f"{screening.segments} in {screening.messages}"


def if_asked(content: Content, lang: str, screening: Screening) -> int:
    """Segments had the engine still asked SKIPPABLE (its text alone, one turn more)."""
    if SKIPPABLE in screening.asked:
        return screening.segments
    question = content.flow.question(SKIPPABLE)
    extra = count(content.text(lang, question.ask)).segments if question else 0
    return screening.segments + extra


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--write", type=Path, default=None)
    args = parser.parse_args()
    now = load_content()
    with tempfile.TemporaryDirectory() as folder:
        old = content_at(args.baseline, Path(folder))
        rows = []
        for lang in now.languages:
            before, after = clear_case(old, lang), clear_case(now, lang)
            issue_segments, issue_texts = ISSUE.get(lang, (0, 0))
            rows.append(
                f"| {lang} | {issue_segments} in {issue_texts} | {cell(before)} | "
                f"**{cell(after)}** | {after.segments / before.segments:.2f}× | "
                f"{if_asked(now, lang, after)} | {clear_case_target(lang)} |")
    table = "\n".join([
        SECTION, "",
        "What the city pays for one clear screening: every text from the first message to the",
        "first results page, in SMS segments as Twilio bills them (`segments in texts`). The",
        "clear case is a single 20-year-old in ZIP 95112 earning $1,200 a month from 20+ hours",
        "of work, with no children, pregnancy, school, foster care, health insurance or housing",
        "risk. Command:", "",
        "```bash", ".venv/bin/python bench/segments_clear_case.py --write docs/benchmarks.md",
        "```", "",
        f"Baseline, from the same run: the flows and catalogs of commit `{args.baseline}`",
        "(before the texts were shortened) through today's engine, so the ratio is what the",
        "texts alone save. The issue's figures were measured before any of its work. The",
        "engine now skips `has_health_insurance` here (Medi-Cal is decided below its limit);",
        "the next column adds that question back. Targets: English 12, every other language",
        "18 (tests/test_clear_case_cost.py).",
        "",
        "| language | issue 14 as filed | baseline texts | now | now / baseline | "
        "now, had has_health_insurance been asked | target |",
        "|---|---|---|---|---|---|---|",
        *rows, "",
    ])
    print(table)
    if args.write:
        write_section(args.write, SECTION, table)


if __name__ == "__main__":
    main()
