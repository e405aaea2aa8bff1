"""`screener lint`: every check on what staff and translators edit, as `path:line: problem`.

The flow's own loading checks (syntax, schema, unknown targets, duplicate ids, conditions
that do not parse) come first; then the checks that need the whole picture: questions no path
reaches, paths that never reach the results, names in conditions nobody sets, words that
collide with commands, texts over their SMS budget, then the rules and the services.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from bot.campaigns import lint_campaigns
from bot.collisions import collision_problems
from bot.expressions import Expression
from bot.flow import RESULTS, Flow, read_flow
from bot.i18n import DEFAULT_TRANSLATIONS_DIR
from bot.i18n.check import catalog_problems, rendered_questions
from bot.questions.normalize import bare
from bot.relevance import SERVICE_ANSWERS, Relevance, program_list
from bot.rules import lint_rules, load_rules
from bot.segments import segments
from bot.urgent import lint_urgent
from bot.webtexts import lint_web_texts
from bot.yamlsource import Problem, YamlFileError


def lint(flows_dir: Path, translations_dir: Path = DEFAULT_TRANSLATIONS_DIR) -> list[Problem]:
    """All problems in the flows under `flows_dir` and in the catalogs, then one info line
    per language with how much of it is translated."""
    flow_path = flows_dir / "screener.yaml"
    try:
        flow, problems = read_flow(flow_path)
    except YamlFileError as error:
        flow, problems = None, list(error.problems)
    asked = flow.answer_ids if flow else None
    problems += lint_rules(flows_dir / "programs.yaml", asked)
    if flow is not None:
        problems += graph_problems(flow)
        problems += skipping_notes(flow, flows_dir / "programs.yaml")
        problems += condition_problems(flow, _rule_names(flows_dir))
        problems += collision_problems(flow, flows_dir / "languages")
        problems += budget_problems(flow)
        problems += lint_urgent(flows_dir / "urgent.yaml", flow.ordinary_words(),
                                tuple(flow.languages))
        problems += lint_campaigns(flows_dir / "campaigns.yaml", _taken_words(flow),
                                   tuple(flow.languages), date.today())
    problems += _service_problems(flows_dir)
    problems += _handoff_problems(flows_dir)
    problems += lint_web_texts(flows_dir / "web.yaml")  # the resident web page's words
    from bot.placeholders import placeholder_problems  # placeholders the code never fills
    problems += placeholder_problems(flows_dir)
    found, coverage = catalog_problems(flows_dir, translations_dir, flow)
    problems += found
    problems += [
        Problem(str(translations_dir / c.lang / "LC_MESSAGES" / "messages.po"), 1,
                f"({c.lang}) {c.percent:.0f}% translated ({c.translated} of {c.total} texts)",
                "info")
        for c in coverage
    ]
    return problems


def skipping_notes(flow: Flow, rules_path: Path) -> list[Problem]:
    """When each question is skipped (bot/relevance.py), for staff: an info line per question
    that can be skipped, and a warning for one no program needs, which is never asked."""
    try:
        rules = load_rules(rules_path)
    except YamlFileError:
        return []  # the rules' own problems are reported already
    relevance = Relevance(flow, rules)
    notes = []
    for question in flow.questions:
        if question.always or flow.recorded(question) & SERVICE_ANSWERS:
            continue
        programs, later = relevance.why_asked(question)
        if not programs and not later:
            notes.append(Problem(flow.path, question.line,
                                 f"question '{question.id}' is never asked: no program reads its "
                                 "answer and it decides no other question. Mark it "
                                 "`always: true` to ask it anyway", "warning"))
            continue
        reasons = []
        if programs:
            which = f"one of {program_list(programs)}" if len(programs) > 1 else programs[0]
            reasons.append(f"{which} is still undecided")
        if later:
            reasons.append(f"{program_list(later)} may still be asked")
        notes.append(Problem(flow.path, question.line,
                             f"question '{question.id}' is asked only while "
                             f"{' or '.join(reasons)}; otherwise it is skipped", "info"))
    return notes


def _taken_words(flow: Flow) -> dict[str, str]:
    """Folded words a campaign keyword must not be: commands, answers and choice phrases."""
    taken = {bare(phrase): f"a phrase of choice '{value}'"
             for value, by_lang in flow.choice_words.items()
             for phrases in by_lang.values() for phrase in phrases}
    return taken | flow.ordinary_words()


def _rule_names(flows_dir: Path) -> set[str] | None:
    """Names the rules compute (derived values), or None when the rules do not load."""
    try:
        return set(load_rules(flows_dir / "programs.yaml").facts({}))
    except YamlFileError:
        return None


def _handoff_problems(flows_dir: Path) -> list[Problem]:
    from bot.handoff import load_handoff

    try:
        handoff = load_handoff(flows_dir / "handoff.yaml")
    except YamlFileError as error:
        return list(error.problems)
    if handoff.hours.opens >= handoff.hours.closes:
        return [Problem(handoff.path, 1, "staffed_hours: `from` must be before `to`")]
    return []


def _service_problems(flows_dir: Path) -> list[Problem]:
    path = flows_dir / "services.yaml"
    if not path.exists():
        return []
    from bot.services import lint_services

    return lint_services(path)


def _edges(flow: Flow) -> dict[str, set[str]]:
    """Every place a question can lead to (any branch, or falling through to the next one)."""
    edges: dict[str, set[str]] = {}
    for index, question in enumerate(flow.questions):
        targets = {branch.goto for branch in question.branches}
        if not any(branch.condition is None for branch in question.branches):
            following = flow.questions[index + 1].id if index + 1 < len(flow.questions) else RESULTS
            targets.add(following)
        edges[question.id] = targets
    return edges


def _reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def graph_problems(flow: Flow) -> list[Problem]:
    edges = _edges(flow)
    reached = _reachable(edges, flow.first.id)
    problems = [
        Problem(flow.path, q.line, f"question '{q.id}' is never asked: no question leads to it")
        for q in flow.questions if q.id not in reached
    ]
    problems += [
        Problem(flow.path, q.line,
                f"from question '{q.id}' the flow never reaches the results (it loops)")
        for q in flow.questions if q.id in reached and RESULTS not in _reachable(edges, q.id)
    ]
    return problems


def _conditions(flow: Flow) -> Iterator[tuple[Expression, int]]:
    for question in flow.questions:
        if question.when is not None:
            yield question.when, question.line_of("when")
        for branch in question.branches:
            if branch.condition is not None:
                yield branch.condition, branch.line


def condition_problems(flow: Flow, rule_names: set[str] | None) -> list[Problem]:
    """Names in `when`/`if` conditions that no question and no rule value provides."""
    if rule_names is None:
        return []
    known = flow.answer_ids | rule_names
    problems = []
    for condition, line in _conditions(flow):
        for name in sorted(condition.names - known):
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(flow.path, line,
                                    f"the condition uses '{name}', which no question asks{hint}"))
    return problems


def budget_problems(flow: Flow) -> list[Problem]:
    """Questions (as sent, with their choices) over the segment budget, in English."""
    budget = flow.settings.question_segments
    return [
        Problem(flow.path, line,
                f"question '{question_id}' takes {segments(text)} SMS segments in en; "
                f"the budget is {budget}")
        for question_id, text, line in rendered_questions(flow, lambda text: text)
        if segments(text) > budget
    ]
