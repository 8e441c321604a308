"""sqlfluff (postgres dialect, dbt templater, .sqlfluff at the root) passes on the dbt project."""

from __future__ import annotations

import pytest

from tests.warehouse.conftest import moviepipe

pytestmark = pytest.mark.integration


def test_sqlfluff_passes(wh_settings):
    proc = moviepipe(wh_settings, "lint-sql")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert "FAIL" not in proc.stdout
