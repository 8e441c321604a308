"""The event collector (``moviepipe collect``): ``POST /events`` into Kafka, by the contract.

* :mod:`streaming.collector.batch`: a body split into events, each judged by the
  reference validator (pure);
* :mod:`streaming.collector.store`: rejected events kept in ``raw.user_events_rejected``;
* :mod:`streaming.collector.app`: the FastAPI app (:func:`create_app`);
* :mod:`streaming.collector.cli`: the ``collect`` command (uvicorn, one worker).

Usage::

    from streaming.collector import create_app
    app = create_app(settings)     # nothing connects until the app's lifespan starts
"""

from streaming.collector.app import create_app

__all__ = ["create_app"]
