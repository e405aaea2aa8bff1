"""Words that would be read as something else: checked across all five languages at once.

Residents mix languages, and the engine understands every language's commands in every
conversation, so a Vietnamese yes that folds to a STOP word unsubscribes a resident who meant
"right". Every word of every class in every language file (answers, choice phrases, pay
periods, units, opt-out phrases) is compared with every command word of every language,
after the same folding the matcher uses (`same_words`: accents count only when both sides
carry them), and the two sides of a yes/no question and the choices of a question are
compared with each other. Each collision is reported at the word's own file and line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.flow import Flow
from bot.questions.follow_up import QUESTIONS as FOLLOW_UP_QUESTIONS
from bot.questions.normalize import bare, same_words
from bot.yamlsource import Problem, YamlFileError, load_yaml

# Classes read at the same question: a word in two of them could not be told apart.
SAME_QUESTION = (("yes", "no", "unsure"),)
# Classes that count only after other words of a reply ("me and one person"), never as a
# reply of their own: "person" alone is still the PERSON command, as it should be.
INSIDE_A_REPLY = ("someone", "some_people", "me_and")


@dataclass(frozen=True)
class Word:
    text: str
    kind: str  # "the stop command", "the yes word", "a phrase of choice 'lost_job'"
    group: str  # words of one group never collide with each other
    lang: str
    path: str
    line: int


def collision_problems(flow: Flow, languages_dir: Path) -> list[Problem]:
    words = list(_language_words(languages_dir, flow)) + list(_flow_choice_words(flow))
    commands = [w for w in words if w.group.startswith("command:")]
    inside = {f"words:{name}" for name in INSIDE_A_REPLY}
    others = [w for w in words if not w.group.startswith("command:") and w.group not in inside]
    by_bare: dict[str, list[Word]] = {}
    for command in commands:
        by_bare.setdefault(bare(command.text), []).append(command)
    problems = []
    for word in others + commands:
        for command in by_bare.get(bare(word.text), ()):
            if command.group != word.group and same_words(word.text, command.text):
                problems.append(_problem(word, command, "residents would trigger the command"))
    problems += _same_question_problems(others)
    return _unique(problems)


def _same_question_problems(words: list[Word]) -> list[Problem]:
    """Words read at the same question (yes/no/not sure; the choices of one question) that
    could not be told apart. English words count in every language, so they are compared too."""
    pools = [{f"words:{name}" for name in classes} for classes in SAME_QUESTION]
    choices: dict[str, set[str]] = {}
    for word in words:
        if word.group.startswith("choice:"):
            choices.setdefault(word.group.split(":")[1], set()).add(word.group)
    pools += list(choices.values())
    problems = []
    for groups in pools:
        by_bare: dict[str, list[Word]] = {}
        for word in (w for w in words if w.group in groups):
            by_bare.setdefault(bare(word.text), []).append(word)
        for bucket in by_bare.values():
            for word in bucket:
                problems += [
                    _problem(word, other, "the bot could not tell them apart")
                    for other in bucket
                    if other.group != word.group and same_words(word.text, other.text)
                    and (word.lang == other.lang or "en" in (word.lang, other.lang))
                ]
    return problems


def _problem(word: Word, other: Word, why: str) -> Problem:
    where = "" if other.path == word.path else f" ({other.path}:{other.line})"
    return Problem(word.path, word.line,
                   f"({word.lang}) '{word.text}' is {word.kind} and also '{other.text}', "
                   f"{other.kind} in {other.lang}{where}: {why}")


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _language_words(folder: Path, flow: Flow) -> Iterator[Word]:
    question_of = {choice.value: question.id
                   for question in (*flow.questions, *FOLLOW_UP_QUESTIONS.values())
                   for choice in question.choices}
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = load_yaml(path)
        except YamlFileError:
            continue  # reported by the flow's own loading
        lang = str(data.get("code", path.stem))
        for section, kind, group in (("commands", "the {} command", "command:{}"),
                                     ("words", "the {} word", "words:{}"),
                                     ("choices", "a phrase of the choice '{}'", "choice:{}")):
            for name, items in (data.get(section) or {}).items():
                key = f"{question_of.get(name, '?')}:{name}" if section == "choices" else name
                for index, item in enumerate(items or ()):
                    yield Word(str(item), kind.format(name), group.format(key), lang, str(path),
                               items.line_of(index))
        for section, kind, group in (("opt_out", "an opt-out phrase", "command:stop"),
                                     ("person", "a phrase asking for a person",
                                      "command:person")):
            items = data.get(section) or ()
            for index, item in enumerate(items):
                yield Word(str(item), kind, group, lang, str(path), items.line_of(index))


def _flow_choice_words(flow: Flow) -> Iterator[Word]:
    for question in flow.questions:
        for choice in question.choices:
            for text in (choice.label, *choice.words, choice.value.replace("_", " ")):
                yield Word(text, f"a phrase of the choice '{choice.value}'",
                           f"choice:{question.id}:{choice.value}", "en", flow.path, choice.line)
