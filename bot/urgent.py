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

from rapidfuzz import fuzz, process

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

    def matcher(self, words: Mapping[str, Iterable[str]], ordinary: Set[str]) -> Matcher:
        """`words` maps a need id to its words in every language; `ordinary` holds folded
        answers and commands that must never raise an alarm."""
        return Matcher(self, words, ordinary)


class Matcher:
    """The urgent words indexed once, so a long message is checked in one pass.

    Phrases are found word for word. A typo is forgiven only inside a word of five letters
    or more: short words (most Vietnamese syllables, "die", "hit") must be exact, or
    "tôi đi qua" would read as "tôi đói quá" (hungry)."""

    def __init__(self, urgent: Urgent, words: Mapping[str, Iterable[str]], ordinary: Set[str]):
        self.urgent = urgent
        self.ordinary = ordinary
        self.by_first_word: dict[str, list[tuple[int, tuple[str, ...], Need, str]]] = {}
        rank = 0
        for need in urgent.needs:
            for word in words.get(need.id, ()):
                phrase = tuple(bare(word).split())
                if phrase:
                    self.by_first_word.setdefault(phrase[0], []).append((rank, phrase, need, word))
                    rank += 1
        self.known_words = {word for entries in self.by_first_word.values()
                            for _, phrase, _, _ in entries for word in phrase}
        self.long_words = sorted(w for w in self.known_words if len(w) >= MIN_FUZZY_LENGTH)

    def detect(self, text: str) -> tuple[Need, str] | None:
        """The most pressing need `text` speaks of, with the word that matched; or None.
        An exact word anywhere beats a near one."""
        message = bare(text)
        if not message or message in self.ordinary \
                or ascii_digits(message).replace(" ", "").isdigit():
            return None
        tokens = message.split()
        found = self._find(tokens)
        if found is None and self.urgent.typo_score < 100:
            found = self._find([self._closest(token) for token in tokens])
        return found

    def _closest(self, token: str) -> str:
        if token in self.known_words:
            return token
        match = process.extractOne(token, self.long_words, scorer=fuzz.ratio,
                                   score_cutoff=self.urgent.typo_score)
        return match[0] if match else token

    def _find(self, tokens: list[str]) -> tuple[Need, str] | None:
        best = None
        for start, token in enumerate(tokens):
            for entry in self.by_first_word.get(token, ()):
                rank, phrase = entry[0], entry[1]
                if tuple(tokens[start:start + len(phrase)]) == phrase \
                        and (best is None or rank < best[0]):
                    best = entry
        return (best[2], best[3]) if best else None


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
