"""Which language a resident writes in, judged from the whole first message.

Residents write ordinary sentences, often mixed ("hi, necesito ayuda"), in Latin letters
("mujhe madad chahiye", "toi can giup tien nha") and in texting shorthand. Every piece of
evidence is weighed over the whole message, and the menu is shown only when no language
clearly leads. The evidence lives in flows/languages/<lang>.yaml, so staff can extend it:

- `script`: words in the language's own script (Devanagari, Gurmukhi): strong;
- `letters`: words with a letter only this language uses (ñ, ơ, tone marks): strong;
- `hints`: words of ordinary sentences ("necesito", "tôi", "mujhe"): one point a word;
- `detect`: greetings, the language's name, topic words. A message that is exactly one of them
  is that language; inside a longer message each word of one counts half, since people mix a
  greeting or an English word ("hi", "help") into sentences of their own language;
- a character n-gram model (py3langid, shipped inside its package) for sentences in Latin
  letters that no hint covers. It knows Hindi and Punjabi only in their own scripts, so it
  stays out of messages with Hindi or Punjabi words typed in Latin letters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache

from bot.flow import Flow, Language
from bot.questions.normalize import bare, words

SCRIPT_WORD = 3.0  # a word in the language's own script
LETTER_WORD = 3.0  # a word with a letter only this language uses
HINT_WORD = 1.0  # each word of a hint found in the message
DETECT_WORD = 0.5  # each word of a greeting or topic word inside a longer message
MODEL_WEIGHT = 2.0  # the model's vote when it is sure; nothing when it is at chance
MIN_SCORE = 1.0  # less than one sentence word's worth of evidence: ask with the menu
MIN_LEAD = 1.5  # the leader must have this many times the runner-up's score
MODEL_MIN_LETTERS = 6  # below this (distinct words' letters), the model is not asked


def detect(text: str, flow: Flow, available: Iterable[str]) -> str | None:
    """The language `text` is clearly in, among `available`; None when it is not clear."""
    scores = score(text, flow, available)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best_score < MIN_SCORE or best_score < MIN_LEAD * runner_up:
        return None
    return best


def score(text: str, flow: Flow, available: Iterable[str]) -> dict[str, float]:
    """The evidence for each available language in `text` (languages with none are left out)."""
    wanted = set(available)
    profiles = {code: p for code, p in _profiles(flow).items() if code in wanted}
    message = bare(text)
    whole = [code for code, profile in profiles.items() if message in profile.whole]
    if len(whole) == 1:
        return {whole[0]: MIN_SCORE}
    tokens = tuple(words(text))
    raw_words = unicodedata.normalize("NFC", text).casefold().split()
    scores: dict[str, float] = {}
    for code, profile in profiles.items():
        found = profile.written(raw_words) + profile.phrases_in(tokens)
        if len(tokens) == 1:
            found /= 2  # one word alone ("menu", "no") is weak evidence
        if found:
            scores[code] = found
    latin = [code for code, p in profiles.items() if p.script is None]
    model_may_judge = not any(
        scores.get(code) for code, p in profiles.items() if p.script is not None
    )
    if model_may_judge and len(latin) > 1:
        vote, certainty = _model_vote(text, tuple(sorted(latin)))
        if vote and certainty > 0:
            scores[vote] = scores.get(vote, 0.0) + MODEL_WEIGHT * certainty
    return scores


def warm(flow: Flow) -> None:
    """Load the model and the word tables now (about a second), not on a resident's message."""
    latin = tuple(sorted(code for code, p in _profiles(flow).items() if p.script is None))
    if len(latin) > 1:
        _identifier(latin)


@dataclass(frozen=True)
class _Profile:
    """One language's evidence, prepared for fast matching."""

    script: tuple[int, int] | None
    letters: frozenset[str]
    phrases: Mapping[tuple[str, ...], float]
    longest: int
    whole: frozenset[str]

    def written(self, raw_words: list[str]) -> float:
        """Points for words in this language's script or with its own letters."""
        found = 0.0
        for word in raw_words:
            if self.script and any(self.script[0] <= ord(c) <= self.script[1] for c in word):
                found += SCRIPT_WORD
            elif self.letters and not self.letters.isdisjoint(word):
                found += LETTER_WORD
        return found

    def phrases_in(self, tokens: tuple[str, ...]) -> float:
        """Points for hints and detect words, longest phrase first, each word counted once."""
        found, i = 0.0, 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                weight = self.phrases.get(tokens[i:i + n])
                if weight:
                    found += weight
                    i += n
                    break
            else:
                i += 1
        return found


_CACHE: dict[int, tuple[Flow, dict[str, _Profile]]] = {}


def _profiles(flow: Flow) -> dict[str, _Profile]:
    """Each language's prepared evidence, built once per loaded flow."""
    cached = _CACHE.get(id(flow))
    if cached is None or cached[0] is not flow:
        if len(_CACHE) > 8:
            _CACHE.clear()
        cached = (flow, {code: _profile(lang) for code, lang in flow.languages.items()})
        _CACHE[id(flow)] = cached
    return cached[1]


def _profile(lang: Language) -> _Profile:
    hints = {key: HINT_WORD * len(key) for key in map(_key, lang.hints) if key}
    letters = unicodedata.normalize("NFC", lang.letters).casefold().replace(" ", "")
    profile = _Profile(
        script=lang.script,
        letters=frozenset(letters),
        phrases=hints,
        longest=max(map(len, hints), default=0),
        whole=frozenset(bare(entry) for entry in lang.detect),
    )
    # A detect phrase made of hints ("necesito ayuda") keeps the hints' weight.
    phrases = dict(hints)
    for key in map(_key, lang.detect):
        if key and key not in hints:
            phrases[key] = max(DETECT_WORD * len(key), profile.phrases_in(key))
    return replace(profile, phrases=phrases, longest=max(map(len, phrases), default=0))


def _key(entry: str) -> tuple[str, ...]:
    return tuple(words(entry))


def _model_vote(text: str, codes: tuple[str, ...]) -> tuple[str | None, float]:
    """The model's language among `codes`, and how far above chance it is (0 to 1)."""
    if sum(c.isalpha() for word in set(words(text)) for c in word) < MODEL_MIN_LETTERS:
        return None, 0.0  # too little text ("ok ok") for the model to judge
    identifier = _identifier(codes)
    if identifier is None:
        return None, 0.0
    lang, probability = identifier.rank(text)[0]
    chance = 1 / len(identifier.nb_classes)
    return lang, max(0.0, (probability - chance) / (1 - chance))


@cache
def _identifier(codes: tuple[str, ...]):
    """py3langid restricted to those of `codes` it knows (None if fewer than two); loaded once
    per process, in about 0.7 s."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    known = [code for code in codes if code in identifier.labels]
    if len(known) < 2:
        return None
    identifier.set_languages(known)
    return identifier
