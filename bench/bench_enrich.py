"""Sentiment benchmark: accuracy on the 2,000 labelled reviews, and comments per second.

Reads ``review_polarity/review_polarity.tar.gz`` under ``MOVIEPIPE_DATA_DIR`` (never
copied). Accuracy and per-class recall are on the whole reviews; the speed is on
comment-length texts: each review's sentences grouped two at a time.
Targets (issue 11): accuracy >= 0.70; >= 2,000 comments/s.
"""

from __future__ import annotations

import time

from enrich.evaluate import evaluate, load_review_polarity
from enrich.lexicon import LexiconScorer, split_sentences
from moviepipe.config import load_settings

TARGET_ACCURACY = 0.70
TARGET_PER_S = 2000.0
SPEED_TEXTS = 20_000


def comment_texts(texts: list[str], limit: int) -> list[str]:
    """Comment-length texts: consecutive sentence pairs of the reviews."""
    out: list[str] = []
    for text in texts:
        sentences = split_sentences(text)
        out.extend(" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2))
        if len(out) >= limit:
            break
    return out[:limit]


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    settings = load_settings()
    docs = load_review_polarity(settings.moviepipe_data_dir)
    scorer = LexiconScorer()
    result = evaluate(scorer, docs)
    print(f"scorer                 {scorer.name} {scorer.version}")
    print(
        f"accuracy ({result.count} reviews) {result.accuracy:.4f}  "
        f"(target >= {TARGET_ACCURACY}) {_verdict(result.accuracy >= TARGET_ACCURACY)}"
    )
    for label, recall in result.recall.items():
        print(f"recall {label:<15} {recall:.4f}")
    texts = comment_texts([d.text for d in docs], SPEED_TEXTS)
    mean_chars = sum(map(len, texts)) / len(texts)
    start = time.perf_counter()
    scorer.score_many(texts)
    per_s = len(texts) / (time.perf_counter() - start)
    print(
        f"speed ({len(texts)} texts, {mean_chars:.0f} chars) {per_s:,.0f} comments/s  "
        f"(target >= {TARGET_PER_S:,.0f}) {_verdict(per_s >= TARGET_PER_S)}"
    )


if __name__ == "__main__":
    main()
