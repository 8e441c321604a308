"""Accuracy of a scorer on labelled texts: the review polarity set and committed comments.

The review polarity data set (2,000 movie reviews, 1,000 positive and 1,000 negative)
is read straight from its tarball under ``settings.moviepipe_data_dir`` — never copied.

Usage::

    from enrich.evaluate import evaluate, load_review_polarity
    docs = load_review_polarity(settings.moviepipe_data_dir)
    evaluate(LexiconScorer(), docs)     # Evaluation(accuracy=0.70..., recall={...})
"""

from __future__ import annotations

import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from enrich.lexicon import LexiconScorer, polarity

REVIEW_POLARITY = Path("review_polarity") / "review_polarity.tar.gz"


@dataclass(frozen=True)
class Labelled:
    text: str
    label: int  # 1 positive, -1 negative


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    recall: dict[str, float]
    count: int


def review_polarity_path(data_dir: Path) -> Path:
    return Path(data_dir) / REVIEW_POLARITY


def load_review_polarity(data_dir: Path) -> list[Labelled]:
    """The 2,000 reviews of ``txt_sentoken/{pos,neg}/*.txt`` in the tarball, in member order."""
    path = review_polarity_path(data_dir)
    if not path.is_file():
        raise FileNotFoundError(f"review polarity data not found at {path} (MOVIEPIPE_DATA_DIR)")
    docs: list[Labelled] = []
    with tarfile.open(path) as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or not member.name.endswith(".txt") or len(parts) < 2:
                continue
            label = {"pos": 1, "neg": -1}.get(parts[-2])
            if label is None:
                continue
            handle = tar.extractfile(member)
            assert handle is not None
            docs.append(Labelled(handle.read().decode("utf-8", errors="replace"), label))
    return docs


def evaluate(scorer: LexiconScorer, docs: Sequence[Labelled]) -> Evaluation:
    """Two-class accuracy and recall per class (``polarity`` of each score)."""
    hits = {1: 0, -1: 0}
    totals = {1: 0, -1: 0}
    for doc in docs:
        totals[doc.label] += 1
        hits[doc.label] += polarity(scorer.raw_score(doc.text)) == doc.label
    count = sum(totals.values())
    return Evaluation(
        accuracy=sum(hits.values()) / count if count else 0.0,
        recall={
            "positive": hits[1] / totals[1] if totals[1] else 0.0,
            "negative": hits[-1] / totals[-1] if totals[-1] else 0.0,
        },
        count=count,
    )
