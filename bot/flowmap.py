"""The flow map (`screener graph`, /staff/flow): flows/screener.yaml as staff edit it, drawn.

Staff change questions, branches and checks in YAML; the map shows what that does: every
question in order with its `when`, where each answer leads (`next:` branches and the default),
the checks that ask it again, the programs its answer can change (through the rules' derived
values), and the lint problems that fall on it. `build` turns the files into plain data
(`FlowMap`) that tests and the staff page read; `render_svg` draws it on the server, a simple
layered layout written by hand so nothing outside is needed.
"""

from __future__ import annotations

import bisect
import html
import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from bot.flow import RESULTS, Flow, read_flow
from bot.i18n import DEFAULT_TRANSLATIONS_DIR
from bot.lint import lint
from bot.rules import Rules, load_rules
from bot.yamlsource import Problem, YamlFileError


@dataclass(frozen=True)
class Node:
    """A question (or the results, last): what staff need to see of it on the map."""

    id: str
    type: str  # the question's type, or "results"
    ask: str = ""
    when: str | None = None
    line: int = 0
    answers: tuple[str, ...] = ()  # what answering it records: its id and its choices' `sets`
    programs: tuple[str, ...] = ()  # the programs those answers can change, in file order
    marks: tuple[Problem, ...] = ()  # lint problems on its lines


@dataclass(frozen=True)
class Edge:
    """A way on from `source`: a `next:` branch, the default (the next question in order), or
    a check (`checks:`) that asks `target` again once `source` is answered."""

    source: str
    target: str
    kind: str  # "branch", "next" or "check"
    condition: str | None = None  # the `if` as written (None: always)
    check: str = ""  # the check's id


@dataclass(frozen=True)
class FlowMap:
    title: str
    nodes: tuple[Node, ...]  # the questions in order, then the results
    edges: tuple[Edge, ...]
    programs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # answer -> programs
    problems: tuple[Problem, ...] = ()  # lint problems on no question: listed above the map
    root: Path | None = None  # problems' paths are shown relative to it

    @property
    def questions(self) -> tuple[Node, ...]:
        return self.nodes[:-1]

    def node(self, node_id: str) -> Node | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    def edges_from(self, node_id: str) -> list[Edge]:
        """Where the flow goes after `node_id`, branches first, as the engine tries them."""
        return [e for e in self.edges if e.source == node_id and e.kind != "check"]

    def checks_asking(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id and e.kind == "check"]

    def where(self, problem: Problem) -> str:
        """`flows/programs.yaml:110` rather than a full path, when the file is under `root`."""
        path = Path(problem.path)
        if self.root and path.is_relative_to(self.root):
            path = path.relative_to(self.root)
        return f"{path}:{problem.line}"


# Building the map ---------------------------------------------------------------------------


def current(flows_dir: Path, translations_dir: Path = DEFAULT_TRANSLATIONS_DIR) -> FlowMap:
    """The map of the files as they are now, rebuilt only when one of them (or the day) has
    changed: lint reads some 25 YAML files and takes seconds, too slow for every page view."""
    stamp = tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size)
                  for folder in (flows_dir, translations_dir)
                  for path in sorted(folder.rglob("*")) if path.is_file())
    return _built(flows_dir, translations_dir, stamp, date.today())


@lru_cache(maxsize=4)
def _built(flows_dir: Path, translations_dir: Path, stamp: tuple, day: date) -> FlowMap:
    return build(flows_dir, translations_dir)


def build(flows_dir: Path, translations_dir: Path = DEFAULT_TRANSLATIONS_DIR) -> FlowMap:
    """The map of the flows under `flows_dir`, with every problem `screener lint` finds."""
    try:
        flow, _ = read_flow(flows_dir / "screener.yaml")  # lint reports its problems again
    except YamlFileError:
        flow = None
    try:
        rules = load_rules(flows_dir / "programs.yaml")
    except YamlFileError:
        rules = None
    return flow_map(flow, rules, lint(flows_dir, translations_dir), flows_dir.parent)


def flow_map(flow: Flow | None, rules: Rules | None, problems: Iterable[Problem],
             root: Path | None = None) -> FlowMap:
    """The map as data. Without a flow (it does not load) only the problems are there; without
    rules no program is named."""
    results = Node(RESULTS, "results")
    if flow is None:
        return FlowMap("screener.yaml (does not load)", (results,), (), {}, tuple(problems), root)
    changes = programs_by_answer(flow, rules) if rules else {}
    marks, rest = _place(flow, problems)
    order = [program.id for program in rules.programs] if rules else []
    nodes = []
    for question in flow.questions:
        answers = flow.recorded(question)
        programs = {p for answer in answers for p in changes.get(answer, ())}
        nodes.append(Node(
            id=question.id, type=question.type, ask=_flat(question.ask),
            when=_flat(question.when.source) if question.when else None, line=question.line,
            answers=tuple(sorted(answers)), programs=tuple(p for p in order if p in programs),
            marks=tuple(marks.get(question.id, ())),
        ))
    edges = (*_edges(flow), *_check_edges(flow, rules))
    return FlowMap(f"{flow.name}, version {flow.version}", (*nodes, results), edges, changes,
                   tuple(rest), root)


def programs_by_answer(flow: Flow, rules: Rules) -> dict[str, tuple[str, ...]]:
    """For every answer the flow records, the programs whose condition reads it: directly, or
    through derived values, limits and the values `Rules.facts` computes from answers."""
    found: dict[str, list[str]] = {answer: [] for answer in sorted(flow.answer_ids)}
    for program in rules.programs:
        for answer in sorted(rules.reads(program.when.names) & flow.answer_ids):
            found[answer].append(program.id)
    return {answer: tuple(programs) for answer, programs in found.items()}


def _edges(flow: Flow) -> Iterator[Edge]:
    for index, question in enumerate(flow.questions):
        for branch in question.branches:
            condition = _flat(branch.condition.source) if branch.condition else None
            yield Edge(question.id, branch.goto, "branch", condition)
        if not any(branch.condition is None for branch in question.branches):
            following = index + 1
            target = flow.questions[following].id if following < len(flow.questions) else RESULTS
            yield Edge(question.id, target, "next")


def _check_edges(flow: Flow, rules: Rules | None) -> Iterator[Edge]:
    """Each check, drawn from the last question (in order) whose answer its condition reads:
    the answer after which it can first hold. An answer read by name is that answer (a derived
    value of the same name only stands in when it was not asked)."""
    answers = flow.answer_ids
    for check in flow.checks:
        names = check.condition.names
        behind = names & answers
        if rules:
            behind |= rules.reads(names - answers) & answers
        readers = [q.id for q in flow.questions if flow.recorded(q) & behind]
        yield Edge(readers[-1] if readers else check.ask, check.ask, "check",
                   _flat(check.condition.source), check.id)


def _place(flow: Flow, problems: Iterable[Problem]) -> tuple[dict[str, list[Problem]],
                                                             list[Problem]]:
    """Problems in the flow file on a question's lines go to that question; the rest stay."""
    flow_file = Path(flow.path).resolve()
    starts = [question.line for question in flow.questions]
    end = _questions_end(flow)
    marks: dict[str, list[Problem]] = {}
    rest = []
    for problem in problems:
        on_file = Path(problem.path).resolve() == flow_file
        if on_file and problem.severity == "info":
            continue  # when each question is skipped: `screener lint` says it, the map shows why
        if on_file and starts and starts[0] <= problem.line < end:
            owner = flow.questions[bisect.bisect_right(starts, problem.line) - 1]
            marks.setdefault(owner.id, []).append(problem)
        else:
            rest.append(problem)
    return marks, rest


def _questions_end(flow: Flow) -> int:
    """The first line after the last question: the next top-level key, or the file's end."""
    lines = Path(flow.path).read_text(encoding="utf-8").splitlines()
    last = flow.questions[-1].line if flow.questions else len(lines)
    for number in range(last + 1, len(lines) + 1):
        if re.match(r"[^\s#-]", lines[number - 1]):
            return number
    return len(lines) + 1


def _flat(text: str) -> str:
    """A folded YAML text on one line."""
    return " ".join(str(text).split())


# Drawing it ---------------------------------------------------------------------------------

NODE_W = 460
PAD = 10  # inside a box
LINE = 17  # line height
CHAR_W = 6.6  # a 13 px sans-serif character, on average (generous): wrapping, label widths
GAP = 44  # between boxes, room for an arrow and its label
LANE = 22  # between side lanes
MARGIN = 16
WRAP = int((NODE_W - 2 * PAD) / CHAR_W)
COLOURS = {"next": "#5b6570", "branch": "#0b5cad", "check": "#b45309", "error": "#a4161a",
           "warning": "#8a5a00", "info": "#5b6570"}
STYLE = """
.fm-box { fill: #fff; stroke: #9aa5b1; stroke-width: 1.2; }
.fm-results .fm-box { fill: #eaf4ec; stroke: #1f7a3a; }
.fm-error .fm-box { stroke: #a4161a; stroke-width: 3; }
.fm-warning .fm-box { stroke: #8a5a00; stroke-width: 2.5; }
.fm-id { font-weight: 700; fill: #1b1f24; }
.fm-type, .fm-note { fill: #5b6570; }
.fm-when { fill: #1b1f24; }
.fm-again, .fm-check-label { fill: #8a4106; }
.fm-programs { fill: #1f5130; font-size: 12px; }
.fm-mark-error { fill: #a4161a; font-weight: 600; }
.fm-mark-warning, .fm-mark-info { fill: #8a5a00; }
.fm-label { fill: #0b5cad; }
.fm-label-next { fill: #5b6570; }
.fm-label-bg { fill: #fff; opacity: .92; }
.fm-heading { font-size: 16px; font-weight: 700; fill: #1b1f24; }
"""


@dataclass
class _Box:
    node: Node
    lines: list[tuple[str, str]]  # (text, class)
    top: float = 0

    @property
    def height(self) -> float:
        return 2 * PAD + LINE * len(self.lines)

    @property
    def bottom(self) -> float:
        return self.top + self.height


def render_svg(flow_map: FlowMap, listed: bool = True) -> str:
    """The map as a standalone SVG: questions top to bottom, defaults straight down, branches
    in lanes on the right, checks in lanes on the left. `listed` adds the problems that are on
    no question above the map (the staff page lists them in HTML instead)."""
    boxes = [_Box(node, _box_lines(flow_map, index, node))
             for index, node in enumerate(flow_map.nodes)]
    position = {}
    for index, box in enumerate(boxes):
        position.setdefault(box.node.id, index)
    side = [e for e in flow_map.edges if e.kind != "check"
            and position.get(e.target) != position[e.source] + 1]
    checks = [e for e in flow_map.edges if e.kind == "check"]
    right_lanes = _lanes(side, position)
    left_lanes = _lanes(checks, position)
    label_left = max((len(e.check) * CHAR_W for e in checks), default=0)
    node_x = MARGIN + label_left + 16 + LANE * (max(left_lanes.values(), default=-1) + 2)
    lane_right = node_x + NODE_W + 2 * LANE
    width = max([node_x + NODE_W + MARGIN] + [
        lane_right + LANE * lane + 8 + len(_edge_label(flow_map, edge)) * CHAR_W + MARGIN
        for edge, lane in right_lanes.items()])
    header, y = _header(flow_map, listed, width)
    for box in boxes:
        box.top = y
        y += box.height + GAP
    height = y - GAP + MARGIN
    paths: list[str] = []
    labels: list[str] = []
    _draw_straight(flow_map, boxes, position, node_x, paths, labels)
    _draw_lanes(flow_map, boxes, position, right_lanes, node_x, paths, labels, left=False)
    _draw_lanes(flow_map, boxes, position, left_lanes, node_x, paths, labels, left=True)
    count = len(flow_map.questions)
    description = (f"{count} questions from top to bottom in the order they are asked, then the "
                   "results. Solid grey arrows go to the next question, blue ones are branches "
                   "(next: with if and goto), dashed orange ones are checks that ask a question "
                   "again. Each box says when it is asked, the programs its answer can change "
                   "and any lint problem on its lines.")
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        'aria-labelledby="fm-title fm-desc" font-size="13" '
        'font-family="system-ui, -apple-system, \'Segoe UI\', \'Noto Sans\', sans-serif">',
        f'<title id="fm-title">Flow map: {_e(flow_map.title)}</title>',
        f'<desc id="fm-desc">{_e(description)}</desc>',
        f"<style>{STYLE}</style>",
        "<defs>" + "".join(
            f'<marker id="fm-arrow-{kind}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{COLOURS[kind]}"/></marker>'
            for kind in ("next", "branch", "check")) + "</defs>",
        *header,
        *paths,
        *(_node_svg(flow_map, box, node_x) for box in boxes),
        *labels,
        "</svg>",
    ])


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _wrap(text: str, css: str, width: int = WRAP) -> list[tuple[str, str]]:
    return [(line, css) for line in textwrap.wrap(text, width)]


def _box_lines(flow_map: FlowMap, index: int, node: Node) -> list[tuple[str, str]]:
    if node.type == "results":
        return [("results", "fm-id"), ("the programs whose conditions hold, best first",
                                       "fm-note")]
    lines = [(f"{index + 1}. {node.id}", "fm-id")]
    if node.when:
        lines += _wrap(f"asked only if {node.when}", "fm-when")
    for check in flow_map.checks_asking(node.id):
        lines += _wrap(f"asked again if {check.condition} ({check.check})", "fm-again")
    changes = ", ".join(node.programs) if node.programs else "no program"
    lines += _wrap(f"can change: {changes}", "fm-programs", int(WRAP * 13 / 12))
    for problem in node.marks:
        lines += _wrap(f"{problem.severity}, line {problem.line}: {problem.message}",
                       f"fm-mark-{problem.severity}")
    return lines


def _node_svg(flow_map: FlowMap, box: _Box, x: float) -> str:
    node = box.node
    severities = {problem.severity for problem in node.marks}
    state = next((s for s in ("error", "warning") if s in severities), "")
    css = " ".join(filter(None, ["fm-node", "fm-results" if node.type == "results" else "",
                                 f"fm-{state}" if state else ""]))
    parts = [f'<g class="{css}" data-id="{_e(node.id)}">',
             f"<title>{_e(_node_title(flow_map, node))}</title>",
             f'<rect class="fm-box" x="{x:.1f}" y="{box.top:.1f}" width="{NODE_W}" '
             f'height="{box.height:.1f}" rx="8"/>']
    for number, (text, line_css) in enumerate(box.lines):
        y = box.top + PAD + LINE * number + 13
        if number == 0 and node.type != "results":
            parts.append(f'<text x="{x + PAD:.1f}" y="{y:.1f}"><tspan class="fm-id">{_e(text)}'
                         f'</tspan><tspan class="fm-type"> · {_e(node.type)}</tspan></text>')
        else:
            parts.append(f'<text class="{line_css}" x="{x + PAD:.1f}" y="{y:.1f}">'
                         f"{_e(text)}</text>")
    parts.append("</g>")
    return "".join(parts)


def _node_title(flow_map: FlowMap, node: Node) -> str:
    """The box in one sentence for screen readers and tooltips."""
    if node.type == "results":
        return "Results: the programs whose conditions hold."
    said = [f"Question {node.id} ({node.type}): {node.ask}",
            f"Asked only if {node.when}." if node.when else "Always asked."]
    said += [f"Then {edge.target}" + (f" if {edge.condition}." if edge.condition else ".")
             for edge in flow_map.edges_from(node.id)]
    said += [f"Asked again if {edge.condition} (check {edge.check})."
             for edge in flow_map.checks_asking(node.id)]
    said.append(f"Can change: {', '.join(node.programs) or 'no program'}.")
    said += [f"Lint {problem.severity} on line {problem.line}: {problem.message}"
             for problem in node.marks]
    return " ".join(said)


def _header(flow_map: FlowMap, listed: bool, width: float) -> tuple[list[str], float]:
    """The heading, a legend, and (when `listed`) the problems on no question; its height."""
    parts = [f'<text class="fm-heading" x="{MARGIN}" y="{MARGIN + 14}">'
             f"Flow map: {_e(flow_map.title)}</text>"]
    y = MARGIN + 40
    x = MARGIN
    for kind, text in (("next", "next question"), ("branch", "branch (next: if / goto)"),
                       ("check", "asked again (checks:)")):
        dash = ' stroke-dasharray="6 4"' if kind == "check" else ""
        parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 34}" y2="{y - 4}" '
                     f'stroke="{COLOURS[kind]}" stroke-width="1.6"{dash} '
                     f'marker-end="url(#fm-arrow-{kind})"/>'
                     f'<text class="fm-note" x="{x + 42}" y="{y}">{_e(text)}</text>')
        x += 60 + len(text) * CHAR_W
    y += LINE
    if listed and flow_map.problems:
        y += 6
        parts.append(f'<text class="fm-id" x="{MARGIN}" y="{y}">Lint problems on no '
                     "question:</text>")
        for problem in flow_map.problems:
            text = f"{problem.severity}: {flow_map.where(problem)}: {problem.message}"
            for line, css in _wrap(text, f"fm-mark-{problem.severity}",
                                   int((width - 2 * MARGIN) / CHAR_W)):
                y += LINE
                parts.append(f'<text class="{css}" x="{MARGIN}" y="{y}">{_e(line)}</text>')
        y += LINE
    return parts, y + 12


def _lanes(edges: list[Edge], position: Mapping[str, int]) -> dict[Edge, int]:
    """A side lane for each edge, shortest spans nearest the boxes, overlapping spans apart."""
    def span(edge: Edge) -> tuple[int, int]:
        ends = (position[edge.source], position.get(edge.target, position[edge.source]))
        return min(ends), max(ends)

    taken: list[list[tuple[int, int]]] = []
    lanes = {}
    for edge in sorted(edges, key=lambda e: (span(e)[1] - span(e)[0], span(e))):
        low, high = span(edge)
        lane = next((i for i, spans in enumerate(taken)
                     if all(high < a or low > b for a, b in spans)), len(taken))
        if lane == len(taken):
            taken.append([])
        taken[lane].append((low, high))
        lanes[edge] = lane
    return lanes


def _edge_label(flow_map: FlowMap, edge: Edge) -> str:
    if edge.kind == "check":
        return edge.check
    if edge.kind == "next":
        return "otherwise" if any(e.kind == "branch" for e in flow_map.edges_from(edge.source)) \
            else ""
    known = flow_map.node(edge.target) is not None
    target = "" if known else f"goto {edge.target}: no such question; "
    return target + (f"if {edge.condition}" if edge.condition else f"goto {edge.target}")


def _edge_title(edge: Edge) -> str:
    if edge.kind == "check":
        return f"Check {edge.check}: after {edge.source}, ask {edge.target} again if " \
               f"{edge.condition}"
    return f"From {edge.source} to {edge.target}" + (
        f" if {edge.condition}" if edge.condition else "")


def _label(x: float, y: float, text: str, css: str, anchor: str = "start") -> str:
    """A label on a white ground, so lanes crossing it do not hide it."""
    width = len(text) * CHAR_W + 6
    left = x - 3 if anchor == "start" else x - width + 3
    return (f'<rect class="fm-label-bg" x="{left:.1f}" y="{y - 12:.1f}" width="{width:.1f}" '
            f'height="16" rx="3"/><text class="{css}" x="{x:.1f}" y="{y:.1f}" '
            f'text-anchor="{anchor}">{_e(text)}</text>')


def _path(edge: Edge, d: str) -> str:
    dash = ' stroke-dasharray="6 4"' if edge.kind == "check" else ""
    return (f'<g class="fm-edge fm-edge-{edge.kind}" data-from="{_e(edge.source)}" '
            f'data-to="{_e(edge.target)}"><title>{_e(_edge_title(edge))}</title>'
            f'<path d="{d}" fill="none" stroke="{COLOURS[edge.kind]}" stroke-width="1.6"{dash} '
            f'marker-end="url(#fm-arrow-{edge.kind})"/></g>')


def _draw_straight(flow_map: FlowMap, boxes: list[_Box], position: Mapping[str, int],
                   node_x: float, paths: list[str], labels: list[str]) -> None:
    """Edges to the box just below: one arrow down, its labels beside it."""
    middle = node_x + NODE_W / 2
    below: dict[str, list[Edge]] = {}
    for edge in flow_map.edges:
        if edge.kind != "check" and position.get(edge.target) == position[edge.source] + 1:
            below.setdefault(edge.source, []).append(edge)
    for source, edges in below.items():
        box = boxes[position[source]]
        kind = "branch" if any(e.kind == "branch" for e in edges) else "next"
        shown = Edge(source, edges[0].target, kind, " or ".join(
            e.condition for e in edges if e.condition) or None)
        paths.append(_path(shown, f"M{middle:.1f},{box.bottom:.1f} "
                                  f"V{box.bottom + GAP - 2:.1f}"))
        text = " / ".join(filter(None, (_edge_label(flow_map, e) for e in edges)))
        if text:
            labels.append(_label(middle + 8, box.bottom + GAP / 2 + 4, text,
                                 "fm-label" if kind == "branch" else "fm-label-next"))


def _draw_lanes(flow_map: FlowMap, boxes: list[_Box], position: Mapping[str, int],
                lanes: Mapping[Edge, int], node_x: float, paths: list[str], labels: list[str],
                left: bool) -> None:
    """Edges in side lanes: out of the source's side, along the lane, into the target's side.
    A target that is no question ends in a short stub with its label."""
    leaving: dict[str, int] = {}
    arriving: dict[str, int] = {}
    for edge, lane in sorted(lanes.items(), key=lambda item: item[1]):
        source = boxes[position[edge.source]]
        side = node_x if left else node_x + NODE_W
        out = -1 if left else 1
        lane_x = side + out * LANE * (lane + 2)
        n = leaving[edge.source] = leaving.get(edge.source, -1) + 1
        start_y = source.top + source.height / 2 + 8 * n
        if edge.source == edge.target:
            start_y = source.bottom - 10
        text = _edge_label(flow_map, edge)
        css = "fm-check-label" if left else "fm-label"
        if edge.target not in position:
            paths.append(_path(edge, f"M{side:.1f},{start_y:.1f} H{lane_x:.1f}"))
            labels.append(_label(lane_x + 8, start_y + 4, text, "fm-mark-error"))
            continue
        target = boxes[position[edge.target]]
        m = arriving[edge.target] = arriving.get(edge.target, -1) + 1
        end_y = target.top + 14 + 8 * m
        paths.append(_path(edge, f"M{side:.1f},{start_y:.1f} H{lane_x:.1f} V{end_y:.1f} "
                                 f"H{side + out * 2:.1f}"))
        if left:
            labels.append(_label(lane_x - 8, start_y + 4, text, css, "end"))
        else:
            labels.append(_label(lane_x + 8, start_y + 4, text, css))
