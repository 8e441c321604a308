"""The docs site opened in a real headless Chromium from disk: every link resolves, every
chart loads, the dbt docs list the models, and no request leaves the machine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from moviepipe.config import Settings
from serving.api import create_app
from serving.site.build import Page as SitePage
from serving.site.build import RunSummary, render_index
from tests.serving.api.conftest import ThreadServer
from tests.warehouse.conftest import moviepipe

CHROMIUM = "/usr/bin/chromium"
LOCAL_SCHEMES = {"file", "data", "about", "blob"}


@pytest.fixture(scope="module")
def home(gold_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The gold build's settings with a home of their own, whose docs/ holds the site."""
    return gold_settings.model_copy(update={"moviepipe_home": tmp_path_factory.mktemp("home")})


@pytest.fixture(scope="module")
def site(home: Settings) -> Path:
    out = home.home / "docs"
    proc = moviepipe(home, "docs", "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> tuple[Page, list[str]]:
    """A page that refuses, and records, every request to another host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    remote: list[str] = []

    def guard(route) -> None:  # type: ignore[no-untyped-def]
        url = route.request.url
        if urlparse(url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            remote.append(url)
            route.abort()

    page.route("**/*", guard)
    yield page, remote
    context.close()


def test_index_links_resolve_and_charts_load(site: Path, page: tuple[Page, list[str]]) -> None:
    tab, remote = page
    tab.goto((site / "index.html").as_uri())
    hrefs = tab.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert {"dbt/index.html", "api/index.html"} <= set(hrefs)
    missing = [h for h in hrefs if not (site / h).exists()]
    assert missing == []
    images = tab.eval_on_selector_all(
        ".charts img", "els => els.map(i => [i.getAttribute('src'), i.naturalWidth])"
    )
    assert len(images) == 7, images
    assert all(width >= 1200 for _, width in images), images
    assert tab.locator("#rows").inner_text().count("gold.") >= 3
    shot = site / "index.png"
    tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert remote == []


def test_dbt_docs_list_the_models_from_disk(site: Path, page: tuple[Page, list[str]]) -> None:
    tab, remote = page
    tab.goto((site / "dbt" / "index.html").as_uri())
    # the static page carries its manifest inline: the project tree renders from file://
    tree = tab.locator(".filename-normal", has_text="fact_user_event")
    tree.first.wait_for(state="attached", timeout=30_000)
    tab.goto((site / "dbt" / "index.html").as_uri() + "#!/model/model.moviepipe.dim_movie")
    # the model's page: its columns with their descriptions, from the inline manifest
    tab.get_by_text("original_title", exact=True).first.wait_for(timeout=30_000)
    body = tab.inner_text("body")
    assert "Columns" in body and "Depends On" in body and "movies_curated" in body
    assert remote == []


def test_api_page_lists_every_endpoint(site: Path, page: tuple[Page, list[str]]) -> None:
    tab, remote = page
    tab.goto((site / "api" / "index.html").as_uri())
    text = tab.inner_text("body")
    for path in ("/api/top_movies", "/api/movies/search", "/api/kpis/{name}", "/health"):
        assert path in text
    assert remote == []


def test_unbuilt_pages_say_how_to_build_them() -> None:
    pages = [SitePage("GX data docs", "gx/index.html", "Suites.", False, "moviepipe quality")]
    html = render_index(pages, [], RunSummary(), datetime(2026, 1, 1))
    assert 'href="gx/index.html"' not in html
    assert "moviepipe quality" in html and "No charts yet" in html


def test_serve_serves_the_site(site: Path, home: Settings) -> None:
    with ThreadServer(create_app(home)) as url, httpx.Client(base_url=url) as client:
        index = client.get("/site/")
        assert index.status_code == 200 and "dbt docs" in index.text
        for href in ("dbt/index.html", "api/index.html", "charts/yearly_trends.png"):
            page = client.get(f"/site/{href}")
            assert page.status_code == 200 and len(page.content) > 1000, href
        assert client.get("/site/no-such-page.html").status_code == 404
