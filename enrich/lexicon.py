"""The default sentiment scorer: VADER's lexicon per sentence, weighted for contrast and ending.

VADER (``vaderSentiment==3.3.2``) scores a sentence well — negation ("not good"),
boosters ("very"), caps, "but" inside the sentence — but a whole review's compound
saturates and follows the plot summary. This scorer splits a text into sentences and
averages their compound scores with weights that follow how reviewers argue:

* a sentence with a contrast or conclusion marker ("but", "however", "overall",
  "in the end", ...) weighs ``CONTRAST_WEIGHT`` times more: it states the verdict;
* the last ``ENDING_SENTENCES`` sentences weigh ``ENDING_WEIGHT`` times more: reviews
  end on their verdict;
* a negative sentence weighs ``NEGATIVE_WEIGHT`` times more: reviewers soften
  criticism with praise words ("a good cast wasted") far more than the reverse.

The weighted mean is in [-1, 1]; a text scores ``negative`` below ``-NEUTRAL_BAND``
around ``CENTER``, ``positive`` above it and ``neutral`` inside. ``CENTER`` is a small
positive offset because lexicon valence skews positive in reviews. Every constant is
part of :data:`VERSION`: change one, bump it, and ``moviepipe enrich`` re-scores.

Usage::

    scorer = LexiconScorer()
    scorer.score("The cast is great, but the film is a bore.")   # Score(label='negative', ...)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Label = Literal["positive", "neutral", "negative"]

NAME = "lexicon"
VERSION = "1.0.0"

CONTRAST_WEIGHT = 1.5
ENDING_WEIGHT = 3.0
ENDING_SENTENCES = 4
NEGATIVE_WEIGHT = 1.4
CENTER = 0.05
NEUTRAL_BAND = 0.05

CONTRAST_MARKERS = re.compile(
    r"\b(but|however|yet|nevertheless|nonetheless|though|although|overall|ultimately"
    r"|in the end|all in all|in short|bottom line)\b",
    re.IGNORECASE,
)
# Sentence ends: . ! ? (runs of them) or a line break; abbreviations split too, harmlessly.
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Score:
    label: Label
    score: float


def split_sentences(text: str) -> list[str]:
    """The non-blank sentences of ``text``."""
    return [s for s in (p.strip() for p in SENTENCE_SPLIT.split(text)) if s]


def sentence_weights(sentences: Sequence[str], compounds: Sequence[float]) -> list[float]:
    """The weight of each sentence in the text's mean (see the module docstring)."""
    n = len(sentences)
    weights = []
    for i, (sentence, compound) in enumerate(zip(sentences, compounds, strict=True)):
        w = 1.0
        if i >= n - ENDING_SENTENCES:
            w *= ENDING_WEIGHT
        if CONTRAST_MARKERS.search(sentence):
            w *= CONTRAST_WEIGHT
        if compound < 0:
            w *= NEGATIVE_WEIGHT
        weights.append(w)
    return weights


def combine(sentences: Sequence[str], compounds: Sequence[float]) -> float:
    """The weighted mean of the sentences' compound scores, in [-1, 1] (0 for no sentence)."""
    weights = sentence_weights(sentences, compounds)
    total = sum(weights)
    if not total:
        return 0.0
    return sum(w * c for w, c in zip(weights, compounds, strict=True)) / total


def label_for(score: float) -> Label:
    """positive / neutral / negative around :data:`CENTER` with the :data:`NEUTRAL_BAND`."""
    if score > CENTER + NEUTRAL_BAND:
        return "positive"
    if score < CENTER - NEUTRAL_BAND:
        return "negative"
    return "neutral"


def polarity(score: float) -> Literal[1, -1]:
    """The two-class decision (for the positive/negative review benchmark)."""
    return 1 if score >= CENTER else -1


class LexiconScorer:
    """Sentence-weighted VADER; holds one analyzer (loading the lexicon takes ~0.1 s)."""

    name = NAME
    version = VERSION

    @cached_property
    def _analyzer(self):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        return SentimentIntensityAnalyzer()

    def raw_score(self, text: str) -> float:
        sentences = split_sentences(text or "")
        compounds = [self._analyzer.polarity_scores(s)["compound"] for s in sentences]
        return round(combine(sentences, compounds), 4)

    def score(self, text: str) -> Score:
        value = self.raw_score(text)
        return Score(label_for(value), value)

    def score_many(self, texts: Sequence[str]) -> list[Score]:
        return [self.score(t) for t in texts]
