"""Logging set-up for the CLI: one format, secrets never formatted into messages."""

from __future__ import annotations

import logging


def configure(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # Client libraries are chatty at INFO and may echo connection strings.
    for noisy in ("py4j", "urllib3", "kafka", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
