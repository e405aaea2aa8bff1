"""Questions asked and SMS segments spent per screening, over a population of random
households, in every language: with skipping (bot/relevance.py) against the baseline of every
question asked (each question marked `always: true`), measured in the same run.

Each household (worker/agreement.py draw_households, plus health insurance for about a third)
texts its true answers through the engine (bot/replay.py), from hello to the first page of
results; segments are counted as Twilio bills them (bot/segments.py).

    .venv/bin/python bench/questions.py [--households 1000] [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from report import write_section  # bench/report.py, beside this script

from bot.content import Content, load_content
from bot.replay import Screening, screen
from worker.agreement import draw_households

SECTION = "## Questions and segments per screening"
SEED = 2026


def every_question_asked(content: Content) -> Content:
    questions = tuple(replace(q, always=True) for q in content.flow.questions)
    return replace(content, flow=replace(content.flow, questions=questions))


def population(count: int) -> list[dict]:
    insured = random.Random(f"{SEED}:insured")
    return [h.every_answer() | {"has_health_insurance": insured.random() < 0.35}
            for h in draw_households(count, SEED)]


def p90(values: list[int]) -> int:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def cell(values: list[int]) -> str:
    return f"{statistics.median(values):g} / {p90(values)} ({statistics.fmean(values):.2f})"


def row(lang: str, skipping: list[Screening], baseline: list[Screening]) -> str:
    asked, asked_all = [len(s.asked) for s in skipping], [len(s.asked) for s in baseline]
    spent, spent_all = [s.segments for s in skipping], [s.segments for s in baseline]
    same = sum(a.programs == b.programs for a, b in zip(skipping, baseline, strict=True))
    return (f"| {lang} | {cell(asked)} | {cell(asked_all)} | "
            f"{statistics.fmean(asked) / statistics.fmean(asked_all):.3f}× | {cell(spent)} | "
            f"{cell(spent_all)} | {statistics.fmean(spent) / statistics.fmean(spent_all):.3f}× | "
            f"{same} of {len(skipping)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    content = load_content()
    baseline_content = every_question_asked(content)
    households = population(args.households)
    lines = [
        SECTION, "",
        f"`.venv/bin/python bench/questions.py --households {args.households} --write "
        f"docs/benchmarks.md` ({date.today().isoformat()}). {args.households} drawn households "
        "(worker/agreement.py, seed "
        f"{SEED}; about a third with health insurance) text their true answers from hello to the "
        "first page of results. Baseline: the same households with every question asked "
        "(each marked `always: true`), in the same run. Cells are median / 90th percentile "
        "(mean); the ratio compares means. \"Same results\" counts households whose programs "
        "(and their order) are identical both ways: it must be all of them.", "",
        "| language | questions asked | baseline | ratio | segments | baseline | ratio | "
        "same results |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lang in content.languages:
        skipping = [screen(content, lang, truth) for truth in households]
        baseline = [screen(baseline_content, lang, truth) for truth in households]
        lines.append(row(lang, skipping, baseline))
        print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    if args.write:
        write_section(args.write, SECTION, table)
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
