"""The `screener` command: a thin door onto the engine, the rules and the checks.

Installed packages add subcommands through the entry point group `screener.commands`
(bot/jobs.py): the worker's own (`worker`, `jobs`, `agreement`) come from worker/cli.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from bot.content import flows_dir, load_content
from bot.jobs import command_registrars
from bot.yamlsource import YamlFileError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="screener",
                                     description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--lang", default=None, help="start in this language (en, es, vi, pa, hi)")
    chat.add_argument("--channel", choices=("sms", "whatsapp"), default="sms")
    chat.set_defaults(handler=_chat)

    check = commands.add_parser("check", help="JSON household profile in, JSON programs out")
    check.add_argument("file", help="a JSON file, or - for standard input")
    check.add_argument("--date", type=_day, default=None,
                       help="apply the rules in force on this day, YYYY-MM-DD "
                            "(default: today in San José)")
    check.add_argument("--why", action="store_true",
                       help="for every program, the condition that decided it and the values "
                            "it read")
    check.set_defaults(handler=_check)

    lint = commands.add_parser("lint", help="check flows, rules and translations")
    lint.add_argument("--flows", type=Path, default=None, help="the flows folder to check")
    lint.set_defaults(handler=_lint)

    segments = commands.add_parser("segments", help="SMS segments per question and language")
    segments.add_argument("--write", type=Path, default=None, help="write the table to a file")
    segments.set_defaults(handler=_segments)

    corpus = commands.add_parser("corpus", help="how well residents' messages are understood")
    corpus.add_argument("--lang", action="append", dest="langs",
                        help="only this language (repeatable; default: every corpus file)")
    corpus.add_argument("--dir", type=Path, default=None, help="the corpus folder")
    corpus.add_argument("--write", type=Path, default=None,
                        help="write the table to this Markdown file (docs/understanding.md)")
    corpus.set_defaults(handler=_corpus)

    run = commands.add_parser("run", help="serve the web app and a worker on this machine")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    run.set_defaults(handler=_run)

    outbox = commands.add_parser("outbox", help="print the local outbox, one JSON per line")
    outbox.set_defaults(handler=_outbox)

    flyer = commands.add_parser("flyer", help="a campaign's printable flyer: PDF and PNG preview")
    flyer.add_argument("campaign", help="a campaign id from flows/campaigns.yaml")
    flyer.add_argument("--lang", required=True, help="the flyer's language: en, es, vi, pa or hi")
    flyer.add_argument("--out", type=Path, required=True, help="the PDF; the PNG goes beside it")
    flyer.set_defaults(handler=_flyer)

    staff_hash = commands.add_parser(
        "staff-hash", help="hash a staff password (read from standard input) for STAFF_USERS")
    staff_hash.set_defaults(handler=_staff_hash)

    report = commands.add_parser("report", help="what outreach brought in, per campaign (counts)")
    report.add_argument("--campaign", default=None, help="one campaign id (default: all)")
    report.add_argument("--since", type=_day, default=None, help="from this day on (YYYY-MM-DD)")
    report.add_argument("--json", action="store_true", help="one JSON object per row")
    report.set_defaults(handler=_report)

    graph = commands.add_parser("graph", help="draw the flow map: questions, branches, checks, "
                                              "the programs each answer can change, lint marks")
    graph.add_argument("--out", type=Path, required=True, help="the SVG file to write")
    graph.add_argument("--flows", type=Path, default=None, help="the flows folder to draw")
    graph.set_defaults(handler=_graph)

    for register in command_registrars():  # the worker's: `worker`, `jobs`, `agreement`
        register(commands)

    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except YamlFileError as error:
        print(error, file=sys.stderr)
        print("Run `screener lint` for all problems.", file=sys.stderr)
        return 2


def _chat(args: argparse.Namespace, stdin: TextIO | None = None) -> int:
    from bot.engine import step

    stdin = stdin or sys.stdin
    content = load_content()
    interactive = stdin.isatty()
    session: dict[str, Any] | None = None
    if interactive:
        print("Type as a resident would. Ctrl-D to quit.\n")
    for line in _lines(stdin, interactive):
        result = step(content, session, line, time.time(), lang=args.lang,
                      channel=args.channel)
        session = result.session
        for reply in result.replies:
            print(reply)
            print()
    return 0


def _lines(stdin: TextIO, interactive: bool):
    while True:
        if interactive:
            print("you> ", end="", flush=True)
        line = stdin.readline()
        if not line:
            return
        yield line.rstrip("\n")


def _staff_hash(args: argparse.Namespace) -> int:
    """Print the hash of the password on standard input (one line; never echoed)."""
    from getpass import getpass

    from bot.web.staff.accounts import make_hash

    password = getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    if len(password) < 12:
        print("screener staff-hash: use a password of 12 characters or more", file=sys.stderr)
        return 2
    print(make_hash(password))
    return 0


def _report(args: argparse.Namespace) -> int:
    """Outreach counts from the text line's Redis (the same one `screener jobs` reads)."""
    from dataclasses import asdict

    from redis.exceptions import RedisError

    from bot import outreach
    from bot.redis_embedded import which_redis
    from bot.store import connect

    url, why = which_redis()
    print(f"Redis at {url} ({why})", file=sys.stderr)
    known = {campaign.id for campaign in load_content().campaigns.campaigns}
    if args.campaign and args.campaign not in known | {"none"}:
        print(f"screener report: no campaign '{args.campaign}'; the campaigns are "
              f"{', '.join(sorted(known))} (and 'none': no keyword)", file=sys.stderr)
        return 2
    try:
        rows = outreach.read(connect(url), args.campaign, args.since)
    except RedisError as error:
        print(f"screener report: could not read Redis at {url} ({why}): {error} Set REDIS_URL "
              "to the text line's Redis, or start `screener run`.", file=sys.stderr)
        return 1
    if args.json:
        for row in rows:
            print(json.dumps(asdict(row)))
    else:
        print(outreach.report(rows))
    return 0


def _graph(args: argparse.Namespace) -> int:
    """Write the flow map (bot/flowmap.py) as an SVG and print its path."""
    from bot.flowmap import build, render_svg

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render_svg(build(args.flows or flows_dir())), encoding="utf-8")
    print(args.out)
    return 0


def _day(text: str) -> date:
    """A --date value, checked so a typo is a usage message rather than a traceback."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def _check(args: argparse.Namespace) -> int:
    from bot.rules import load_rules, san_jose_date

    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        profile = json.loads(raw)
    except json.JSONDecodeError as error:
        print(f"{args.file}:{error.lineno}: not valid JSON: {error.msg}", file=sys.stderr)
        return 2
    if not isinstance(profile, dict):
        print(f"{args.file}:1: the profile must be a JSON object of answers", file=sys.stderr)
        return 2
    rules = load_rules(flows_dir() / "programs.yaml")
    unknown = _unknown_keys(profile, rules)
    for key, hint in unknown:
        print(f"{args.file}:{_line_of_key(raw, key)}: '{key}' is not an answer the rules read"
              f"{hint}", file=sys.stderr)
    if unknown:
        return 2
    day = args.date or san_jose_date()
    programs = [
        {
            "id": program.id,
            "name": program.name,
            "summary": program.summary,
            "apply": program.apply,
            "caution": program.caution,
        }
        for program in rules.match(profile, on=day)
    ]
    output: dict[str, Any] = {"rules_version": rules.version, "date": day.isoformat(),
                               "programs": programs}
    if args.why:
        output["why"] = rules.explain(profile, on=day)
    json.dump(output, sys.stdout, indent=2, ensure_ascii=False, default=str)
    print()
    return 0


def _unknown_keys(profile: dict[str, Any], rules: Any) -> list[tuple[str, str]]:
    """Keys no question asks and no rule reads ("houshold_size"), with a "did you mean"."""
    import difflib

    from bot.flow import load_flow

    known = load_flow(flows_dir() / "screener.yaml").answer_ids | set(rules.facts({}))
    unknown = []
    for key in profile:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            unknown.append((key, f" (did you mean '{close[0]}'?)" if close else ""))
    return unknown


def _line_of_key(raw: str, key: str) -> int:
    position = raw.find(json.dumps(key))
    return raw[:position].count("\n") + 1 if position >= 0 else 1


def _lint(args: argparse.Namespace) -> int:
    from bot.lint import lint

    problems = lint(args.flows or flows_dir())
    here = Path.cwd()
    for problem in problems:
        path = Path(problem.path)
        shown = path.relative_to(here) if path.is_relative_to(here) else path
        print(f"{shown}:{str(problem).removeprefix(problem.path + ':')}")
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = sum(1 for p in problems if p.severity == "warning")
    print(f"{errors} errors, {warnings} warnings", file=sys.stderr)
    return 1 if errors else 0


def _segments(args: argparse.Namespace) -> int:
    from bot.i18n.segments_report import report

    table = report(load_content())
    if args.write:
        args.write.write_text(table, encoding="utf-8")
    else:
        print(table)
    return 0


def _corpus(args: argparse.Namespace) -> int:
    """Print accuracy per language and kind, then every misreading as `file:line`; exit 1
    when anything is misread (the target is 100%)."""
    from bot.corpus import CORPUS_DIR, corpus_files, failures, load_corpus, run, table

    files = [f for f in corpus_files(args.dir or CORPUS_DIR)
             if not args.langs or f.stem in args.langs]
    content = load_content()
    outcomes = run(content, [case for path in files for case in load_corpus(path)])
    report = table(outcomes)
    print(report)
    if args.write:
        args.write.write_text(_understanding_page(report, len(outcomes)), encoding="utf-8")
    misread = failures(outcomes)
    for line in misread:
        print(line)
    return 1 if misread else 0


def _understanding_page(report: str, count: int) -> str:
    return "\n".join([
        "# How well the text line understands residents",
        "",
        "Produced by `screener corpus --write docs/understanding.md` from the corpora in",
        f"`tests/corpus/<lang>.yaml` ({count} messages); do not edit by hand. Each message is run",
        "through the real engine at the point of the conversation where residents send it, and",
        "must get the reading written beside it: an answer, a command, an urgent need, \"not",
        "sure\", a re-prompt, a read-back for a yes, a follow-up question, or a language. The",
        "target is 100%; every misreading found later becomes a case (tests/corpus/README.md).",
        "",
        report,
        "",
    ])


def _run(args: argparse.Namespace) -> int:
    from bot.serve import run

    return run(args.host, args.port)


def _outbox(args: argparse.Namespace) -> int:
    from bot import outbox

    print(f"outbox: {outbox.path()}", file=sys.stderr)
    for message in outbox.read():
        print(json.dumps(message, ensure_ascii=False))
    return 0


def _flyer(args: argparse.Namespace) -> int:
    from bot.flyer import FlyerError, render_flyer

    try:
        flyer = render_flyer(load_content(), args.campaign, args.lang)
    except FlyerError as error:
        print(error, file=sys.stderr)
        return 2
    png = args.out.with_suffix(".png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(flyer.pdf)
    png.write_bytes(flyer.png)
    print(args.out)
    print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())

