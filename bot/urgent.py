"""Help today: phrases that mean an urgent need interrupt any question (flows/urgent.yaml).

Each need lists its phrases per language (`words`) and the contexts in which a matched phrase
means something else (`not_when`: "kicked out of my job" is not about a home). Matching is
forgiving of typos ("hungy", "homless") through rapidfuzz, a maintained fuzzy matching
library, but careful: a message that is an ordinary answer (a number, a yes or no, a command)
never matches, and words shorter than five letters must be spelt exactly.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from bot.paths import flows_dir, schema
from bot.questions.normalize import ascii_digits, bare, fold
from bot.yamlsource import Problem, SourceMap, YamlFileError, load_yaml, schema_problems

MIN_FUZZY_LENGTH = 5
_CACHE_LIMIT = 20_000

# "don't" and "don’t" are one word, as residents who type "dont" write it.
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])['’‘`´](?=[^\W\d_])")
# Marks that residents add or leave out without changing the word: the nukta (ख़/ख), the
# candrabindu (हूँ/हूं), Gurmukhi tippi/bindi (ਚਾਹੁੰਦੀ/ਚਾਹੁਂਦੀ) and the addak (ਭੁੱਖ/ਭੁਖ).
_INDIC_VARIANTS = str.maketrans({"\u093c": None, "\u0a3c": None, "\u0a71": None,
                                 "\u0901": "\u0902", "\u0a70": "\u0a02"})


# Tables carried by a frozen dataclass: left out of equality, hashing and its repr.
_DATA: dict[str, Any] = {"compare": False, "hash": False, "repr": False}


@dataclass(frozen=True)
class Need:
    id: str
    services: str  # a category of flows/services.yaml
    reply: str
    line: int
    # {lang: phrases} that raise this need, and {lang: phrases} that refuse a phrase they cover
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict, **_DATA)
    not_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict, **_DATA)
    # (section, lang, phrase) -> line in urgent.yaml, for lint
    lines: Mapping[tuple[str, str, str], int] = field(default_factory=dict, **_DATA)


@dataclass(frozen=True)
class Urgent:
    needs: tuple[Need, ...]
    typo_score: int
    services_listed: int
    resume: str
    path: str = ""
    # a spelling -> the spelling it stands for ("nhi" -> "nahi"), from `spellings:`
    spellings: Mapping[str, str] = field(default_factory=dict, **_DATA)

    def need(self, need_id: str) -> Need:
        return next(need for need in self.needs if need.id == need_id)

    def matcher(self, ordinary: frozenset[str] = frozenset()) -> Matcher:
        """`ordinary` holds folded answers and commands that must never raise an alarm."""
        return Matcher(self, ordinary)


class Token(NamedTuple):
    """A word as typed (lower case, marks kept) and without its Latin marks."""

    marked: str
    loose: str

    @property
    def unmarked(self) -> bool:
        return self.marked == self.loose


class Match(NamedTuple):
    need: Need
    phrase: str  # as listed in urgent.yaml
    lang: str


class _Entry(NamedTuple):
    rank: tuple[int, int, int]  # the need's place in the file, fewer words last, listing order
    tokens: tuple[Token, ...]
    match: Match


def tokens(text: str, spellings: Mapping[str, str] | None = None) -> list[Token]:
    """The words of `text` for matching, at the word level both sides of a match use.

    Marks are kept, so that "từ từ" (slowly) stays apart from "tự tử" (suicide); a word
    typed without marks ("tu tu") may still match either (see `_same`)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _APOSTROPHE.sub("", text).translate(_INDIC_VARIANTS)
    found, current = [], []
    for char in text + " ":
        if unicodedata.category(char)[0] in "PSZC":
            if current:
                marked = unicodedata.normalize("NFC", "".join(current))
                loose = fold(marked)
                if spellings and loose in spellings:
                    marked = loose = spellings[loose]
                found.append(Token(marked, loose))
                current = []
        else:
            current.append(char)
    return found


def _same(typed: Token, listed: Token) -> bool:
    """Equal words: the same letters, and the same marks unless either side has none."""
    return typed.loose == listed.loose and (
        typed.marked == listed.marked or typed.unmarked or listed.unmarked)


class Matcher:
    """The urgent phrases indexed once by their first word, so a message is checked in one
    pass; it runs on every message.

    A typo is forgiven only inside a word of five letters or more. Short words ("die", "hit",
    most Vietnamese syllables) must be exact, marks included when both sides have them, or
    "tôi đi qua" would read as "tôi đói quá" (hungry) and "từ từ" (slowly) as "tự tử"."""

    def __init__(self, urgent: Urgent, ordinary: frozenset[str] = frozenset()):
        self.urgent = urgent
        self.ordinary = ordinary
        self.phrases: dict[str, list[_Entry]] = {}
        self.contexts: dict[str, dict[str, list[tuple[Token, ...]]]] = {}
        listed = 0
        for order, need in enumerate(urgent.needs):
            for lang, phrases in need.words.items():
                for phrase in phrases:
                    words = tuple(tokens(phrase, urgent.spellings))
                    if words:
                        rank = (order, -len(words), listed)
                        entry = _Entry(rank, words, Match(need, phrase, lang))
                        self.phrases.setdefault(words[0].loose, []).append(entry)
                        listed += 1
            index = self.contexts.setdefault(need.id, {})
            for phrases in need.not_when.values():
                for phrase in phrases:
                    words = tuple(tokens(phrase, urgent.spellings))
                    if words:
                        index.setdefault(words[0].loose, []).append(words)
        self.long_words = sorted({token.loose for entries in self.phrases.values()
                                  for entry in entries for token in entry.tokens
                                  if len(token.loose) >= MIN_FUZZY_LENGTH})
        self._near: dict[str, frozenset[str]] = {}

    def detect(self, text: str, guard: bool = True) -> Match | None:
        """The most pressing need `text` speaks of, with the phrase and its language; or None.

        An exact phrase anywhere beats a near one. With `guard`, a message that is an
        ordinary answer or a number never matches (lint turns it off to find collisions)."""
        if guard:
            message = bare(text)
            if not message or message in self.ordinary \
                    or ascii_digits(message).replace(" ", "").isdigit():
                return None
        words = tokens(text, self.urgent.spellings)
        found = self._best(words, typos=False)
        if found is None and self.urgent.typo_score < 100:
            found = self._best(words, typos=True)
        return found

    def _best(self, words: list[Token], typos: bool) -> Match | None:
        """The first need in the file's order; within it the longest phrase, whose language
        is the likelier one ("bhookh lagi hai" is Hindi, though "bhukh" is Punjabi too)."""
        found = sorted(self._matches(words, typos), key=lambda hit: hit[0].rank)
        for entry, start, end in found:
            if not self.refused(entry.match.need, words, start, end):
                return entry.match
        return None

    def _matches(self, words: list[Token], typos: bool) -> Iterator[tuple[_Entry, int, int]]:
        for start, word in enumerate(words):
            keys = self._near_words(word.loose) if typos else (word.loose,)
            for key in keys:
                for entry in self.phrases.get(key, ()):
                    end = start + len(entry.tokens)
                    if end <= len(words) and self._fits(words[start:end], entry.tokens, typos):
                        yield entry, start, end

    def _fits(self, typed: list[Token], listed: tuple[Token, ...], typos: bool) -> bool:
        return all(_same(t, p) or (typos and len(p.loose) >= MIN_FUZZY_LENGTH
                                   and p.loose in self._near_words(t.loose))
                   for t, p in zip(typed, listed, strict=True))

    def _near_words(self, word: str) -> frozenset[str]:
        """`word` and the long listed words it may be a typo of."""
        near = self._near.get(word)
        if near is None:
            close = process.extract(word, self.long_words, scorer=fuzz.ratio,
                                    score_cutoff=self.urgent.typo_score, limit=5)
            near = frozenset([word, *(found for found, _score, _index in close)])
            if len(self._near) > _CACHE_LIMIT:
                self._near.clear()
            self._near[word] = near
        return near

    def refused(self, need: Need, words: list[Token], start: int, end: int) -> bool:
        """Whether a context phrase of `need` covers the words from `start` to `end`.
        Context phrases must be typed exactly: when in doubt, we help."""
        index = self.contexts.get(need.id, {})
        for at in range(end):
            for context in index.get(words[at].loose, ()):
                stop = at + len(context)
                if at <= start and end <= stop <= len(words) and all(
                        _same(t, p) for t, p in zip(words[at:stop], context, strict=True)):
                    return True
        return False


def load_urgent(path: str | Path | None = None) -> Urgent:
    """The urgent needs, or YamlFileError with `path:line: problem`."""
    path = str(path or flows_dir() / "urgent.yaml")
    data = load_yaml(path)
    schema_data = json.loads(schema("urgent.schema.json").read_text(encoding="utf-8"))
    problems = schema_problems(data, schema_data, path)
    if problems:
        raise YamlFileError(problems)
    settings = data["settings"]
    return Urgent(
        needs=tuple(_need(raw) for raw in data["needs"]),
        typo_score=settings["typo_score"],
        services_listed=settings["services_listed"],
        resume=settings["resume"],
        path=path,
        spellings={fold(str(spelling)): fold(str(group[0]))
                   for group in data.get("spellings", ()) for spelling in group[1:]},
    )


def _need(raw: SourceMap) -> Need:
    lines: dict[tuple[str, str, str], int] = {}
    sections: dict[str, dict[str, tuple[str, ...]]] = {}
    for section in ("words", "not_when"):
        by_lang: Any = raw.get(section, {})
        sections[section] = {}
        for lang, phrases in by_lang.items():
            sections[section][lang] = tuple(str(phrase) for phrase in phrases)
            for index, phrase in enumerate(phrases):
                lines.setdefault((section, lang, str(phrase)), phrases.line_of(index))
    return Need(raw["id"], raw["services"], raw["reply"], raw.line_of("reply"),
                words=sections["words"], not_when=sections["not_when"], lines=lines)


def lint_urgent(path: Path, ordinary: Mapping[str, str],
                languages: tuple[str, ...] = ()) -> list[Problem]:
    """Urgent phrases that ordinary answers would set off, needs missing a language, and
    context phrases that can never refuse anything.

    `ordinary` maps a folded answer or command word of any language to what it is
    ("the yes answer word", ...): a resident typing it must never get an alarm.
    """
    try:
        urgent = load_urgent(path)
    except YamlFileError as error:
        return list(error.problems)
    where = str(path)
    problems = []
    for need in urgent.needs:
        for lang in languages:
            if not need.words.get(lang):
                problems.append(Problem(where, need.line,
                                        f"need '{need.id}' has no words in ({lang})"))
    matcher = urgent.matcher()
    for word, what in ordinary.items():
        found = matcher.detect(word, guard=False)
        if found is not None:
            line = found.need.lines.get(("words", found.lang, found.phrase), 1)
            heard = "is" if bare(found.phrase) == word else f"is set off by '{word}',"
            problems.append(Problem(
                where, line, f"({found.lang}) the urgent phrase '{found.phrase}' {heard} "
                             f"{what}: ordinary answers would raise an alarm"))
    for need in urgent.needs:
        own = [tuple(tokens(phrase, urgent.spellings))
               for phrases in need.words.values() for phrase in phrases]
        for lang, phrases in need.not_when.items():
            for phrase in phrases:
                words = tokens(phrase, urgent.spellings)
                if not _covers_any(words, own) and not any(
                        entry.match.need.id == need.id
                        for entry, _, _ in matcher._matches(words, typos=True)):
                    problems.append(Problem(
                        where, need.lines.get(("not_when", lang, phrase), need.line),
                        f"({lang}) the context '{phrase}' contains none of the words of "
                        f"'{need.id}' (nor a typo of one), so it never refuses an alarm",
                        "warning"))
    return problems


def _covers_any(context: list[Token], phrases: list[tuple[Token, ...]]) -> bool:
    """Whether `context` contains one of `phrases`, marks aside: "từ từ" is a context for
    "tự tử", as it refuses "tu tu" typed without marks."""
    loose = [token.loose for token in context]
    for phrase in phrases:
        size, wanted = len(phrase), [token.loose for token in phrase]
        if any(loose[i:i + size] == wanted for i in range(len(loose) - size + 1)):
            return True
    return False
