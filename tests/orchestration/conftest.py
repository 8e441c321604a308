"""Airflow's environment for the orchestration tests: a home of their own under a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from moviepipe.config import load_settings
from orchestration.airflow_env import DAGS_FOLDER, airflow_env


@pytest.fixture(scope="session")
def dagbag(tmp_path_factory) -> Iterator:
    """Every DAG file parsed once per session with ``DagBag``, under a private Airflow home.

    Sockets refuse to connect while the files are parsed: a DAG file that talks to a
    database or the network at import time is an import error here.
    """
    import socket

    settings = load_settings().model_copy(
        update={"moviepipe_home": tmp_path_factory.mktemp("airflow_home")}
    )
    saved = dict(os.environ)
    os.environ.update(airflow_env(settings))
    real_connect = socket.socket.connect

    def refuse(self, address):
        # dbt ls (cosmos) runs in a subprocess and needs no network either.
        raise OSError(f"network call at DAG parse time: {address!r}")

    socket.socket.connect = refuse
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER))
    finally:
        # Restored at once: other fixtures read the environment (MOVIEPIPE_HOME, PG*).
        socket.socket.connect = real_connect
        os.environ.clear()
        os.environ.update(saved)
    yield bag
