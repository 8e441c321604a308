"""Comment enrichment: sentiment scores for every landed comment (``moviepipe enrich``).

Usage::

    from enrich.lexicon import LexiconScorer
    LexiconScorer().score("Slow start, but the ending is wonderful.")

    from enrich.store import run_enrich
    run_enrich(settings)          # scores every comment not yet scored by this scorer version
"""
