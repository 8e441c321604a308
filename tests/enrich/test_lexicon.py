"""The lexicon scorer: negation, contrast and ending weighting, labels, committed accuracy."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from enrich import lexicon
from enrich.evaluate import Labelled, evaluate, load_review_polarity, review_polarity_path
from enrich.lexicon import LexiconScorer, combine, label_for, sentence_weights, split_sentences
from moviepipe.config import load_settings

LABELLED = Path(__file__).with_name("labelled_comments.csv")


@pytest.fixture(scope="module")
def scorer() -> LexiconScorer:
    return LexiconScorer()


def test_split_sentences() -> None:
    assert split_sentences("Good. Bad!  Why?\nNew line") == ["Good.", "Bad!", "Why?", "New line"]
    assert split_sentences("   ") == []


def test_negation_flips_the_label(scorer: LexiconScorer) -> None:
    assert scorer.score("The movie is good.").label == "positive"
    assert scorer.score("The movie is not good.").label == "negative"


def test_contrast_sentence_weighs_more() -> None:
    sentences = ["Nice.", "But bad.", "Plain."]
    weights = sentence_weights(sentences, [0.0, 0.0, 0.0])
    assert weights[1] == weights[0] * lexicon.CONTRAST_WEIGHT


def test_ending_outweighs_an_opening_of_equal_strength() -> None:
    opening = ["x"] + ["filler"] * 10 + ["y"]
    # the same two sentiments, swapped: whichever is at the end decides
    assert combine(opening, [0.5] + [0.0] * 10 + [-0.5]) < 0
    assert combine(opening, [-0.5] + [0.0] * 10 + [0.5]) > 0


def test_verdict_after_but_decides(scorer: LexiconScorer) -> None:
    assert scorer.score("Slow and dull at first. But in the end it is wonderful.").score > 0
    assert scorer.score("Lovely photography. But the story is awful and boring.").score < 0


def test_labels_and_neutral_band(scorer: LexiconScorer) -> None:
    assert scorer.score("It is a movie.").label == "neutral"
    assert scorer.score("").label == "neutral"
    assert label_for(lexicon.CENTER + lexicon.NEUTRAL_BAND + 0.01) == "positive"
    assert label_for(lexicon.CENTER) == "neutral"
    assert label_for(lexicon.CENTER - lexicon.NEUTRAL_BAND - 0.01) == "negative"
    assert -1 <= scorer.score("Best best best amazing wonderful!!!").score <= 1


def test_accuracy_on_committed_comments(scorer: LexiconScorer) -> None:
    with LABELLED.open(newline="") as fh:
        docs = [
            Labelled(row["text"], 1 if row["label"] == "positive" else -1)
            for row in csv.DictReader(fh)
        ]
    result = evaluate(scorer, docs)
    assert result.count == 24
    assert result.accuracy >= 0.85, result
    assert min(result.recall.values()) >= 0.75, result


def test_review_polarity_when_the_shared_data_is_there(scorer: LexiconScorer) -> None:
    """The 2,000-review figure belongs in the bench; run it here too when the data exists."""
    data_dir = load_settings().moviepipe_data_dir
    if not review_polarity_path(data_dir).is_file():
        with pytest.raises(FileNotFoundError, match="MOVIEPIPE_DATA_DIR"):
            load_review_polarity(data_dir)
        return
    docs = load_review_polarity(data_dir)
    assert len(docs) == 2000
    assert evaluate(scorer, docs[::4]).accuracy >= 0.65
