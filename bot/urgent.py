"""Help today: words that mean an urgent need interrupt any question (flows/urgent.yaml).

Matching is forgiving of typos ("hungy", "homless") through rapidfuzz, a maintained fuzzy
matching library, but careful: a message that is an ordinary answer (a number, a yes or no, a
command) never matches, and words shorter than five letters must be spelt exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

from bot.flow import FLOWS_DIR
from bot.questions.normalize import ascii_digits, bare
from bot.yamlsource import Problem, YamlFileError, load_yaml, schema_problems

MIN_FUZZY_LENGTH = 5


@dataclass(frozen=True)
class Need:
    id: str
    services: str  # a category of flows/services.yaml
    reply: str
    line: int


@dataclass(frozen=True)
class Urgent:
    needs: tuple[Need, ...]
    typo_score: int
    services_listed: int
    resume: str
    path: str = ""

    def need(self, need_id: str) -> Need:
        return next(need for need in self.needs if need.id == need_id)

    def detect(self, text: str, words: Mapping[str, Iterable[str]],
               ordinary: Set[str]) -> tuple[Need, str] | None:
        """The most pressing need `text` speaks of, with the word that matched; or None.

        `words` maps a need id to its words in every language; `ordinary` holds folded
        answers and commands that must never raise an alarm.
        """
        message = bare(text)
        if not message or message in ordinary or ascii_digits(message).replace(" ", "").isdigit():
            return None
        tokens = message.split()
        for score in (100, self.typo_score):  # an exact word anywhere beats a near one
            for need in self.needs:
                for word in words.get(need.id, ()):
                    if _mentions(tokens, bare(word), score):
                        return need, word
        return None


def _mentions(tokens: list[str], phrase: str, typo_score: int) -> bool:
    """Whether the message contains `phrase` as whole words, word for word.

    A typo is forgiven only inside a word of five letters or more: short words (most
    Vietnamese syllables, "die", "hit") must be exact, or "tôi đi qua" would read as
    "tôi đói quá" (hungry)."""
    wanted = phrase.split()
    size = len(wanted)
    for start in range(len(tokens) - size + 1):
        window = tokens[start:start + size]
        if all(_same_word(said, word, typo_score)
               for said, word in zip(window, wanted, strict=True)):
            return True
    return False


def _same_word(said: str, word: str, typo_score: int) -> bool:
    if said == word:
        return True
    return (typo_score < 100 and len(word) >= MIN_FUZZY_LENGTH
            and fuzz.ratio(said, word) >= typo_score)


def load_urgent(path: str | Path = FLOWS_DIR / "urgent.yaml") -> Urgent:
    """The urgent needs, or YamlFileError with `path:line: problem`."""
    path = str(path)
    data = load_yaml(path)
    schema = json.loads((FLOWS_DIR / "urgent.schema.json").read_text(encoding="utf-8"))
    problems = schema_problems(data, schema, path)
    if problems:
        raise YamlFileError(problems)
    settings = data["settings"]
    return Urgent(
        needs=tuple(Need(n["id"], n["services"], n["reply"], n.line_of("reply"))
                    for n in data["needs"]),
        typo_score=settings["typo_score"],
        services_listed=settings["services_listed"],
        resume=settings["resume"],
        path=path,
    )


def lint_urgent(path: Path, urgent_words: Mapping[str, Mapping[str, tuple[str, ...]]],
                ordinary: Mapping[str, str]) -> list[Problem]:
    """Needs without words, words for unknown needs, and words that are ordinary answers.

    `ordinary` maps a folded answer or command word to what it is ("the yes word", ...).
    """
    try:
        urgent = load_urgent(path)
    except YamlFileError as error:
        return list(error.problems)
    problems = []
    ids = {need.id for need in urgent.needs}
    for need in urgent.needs:
        if not urgent_words.get(need.id):
            problems.append(Problem(str(path), need.line,
                                    f"need '{need.id}' has no words in flows/languages/*.yaml"))
    for need_id, by_lang in urgent_words.items():
        if need_id not in ids:
            problems.append(Problem(str(path), 1, f"languages list words for '{need_id}', "
                                                  "which is not a need in this file"))
        for lang, words in by_lang.items():
            for word in words:
                if bare(word) in ordinary:
                    problems.append(Problem(
                        str(path), 1, f"({lang}) the urgent word '{word}' is also "
                                      f"{ordinary[bare(word)]}: ordinary answers would raise "
                                      "an alarm"))
    return problems
