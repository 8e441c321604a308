"""GX data docs offline: the CSS/JS its pages load from CDNs, vendored from npm packages.

GX 1.24's templates link Bootstrap, jQuery, bootstrap-table, Font Awesome and
Vega from five CDN hosts. :func:`make_offline` copies each file from the npm
package of the same version (``npm pack``, cached under ``MOVIEPIPE_HOME/cache/npm``
so only the first build needs the registry) into ``<site>/static/vendor/`` and
rewrites every page's link to a relative path; :func:`external_assets` lists what
would still load from another host (tests assert it is empty).

Usage::

    make_offline(site_dir, cache_dir)
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

# CDN URL -> (npm package spec, path inside the package); a trailing "/" copies a folder.
ASSETS: dict[str, tuple[str, str]] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js@1.12.9",
        "dist/umd/popper.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (  # noqa: E501 (a URL)
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (  # noqa: E501 (a URL)
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (  # noqa: E501 (a URL)
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (  # noqa: E501 (a URL)
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (  # noqa: E501 (a URL)
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css",
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (  # noqa: E501 (a URL)
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": ("vega@5.33.1", "build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": ("vega-lite@5.23.0", "build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": ("vega-embed@6.29.0", "build/vega-embed.min.js"),
}
# Files a vendored file loads by a relative path (Font Awesome's css/../webfonts/).
EXTRA_FOLDERS = {"@fortawesome/fontawesome-free@6.6.0": "webfonts/"}
VENDOR = Path("static") / "vendor"
# The navbar logo comes from GX's S3 bucket with a tracking query; GX ships the same image.
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*/logo-long\.png[^\"']*")
LOCAL_LOGO = Path("static") / "images" / "logo-long.png"
_EXTERNAL = re.compile(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["'](https?://[^"']+)["']""")


def _tarball(spec: str, cache: Path) -> Path:
    name = spec.rsplit("@", 1)[0].lstrip("@").replace("/", "-")
    found = sorted(cache.glob(f"{name}-{spec.rsplit('@', 1)[1]}*.tgz"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["npm", "pack", "--silent", spec], cwd=cache, text=True, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed (needs the npm registry once): {proc.stderr}")
    return cache / proc.stdout.strip().splitlines()[-1]


def _package_dir(spec: str) -> Path:
    return VENDOR / spec.replace("/", "_")


def vendor(site: Path, cache: Path) -> dict[str, Path]:
    """Copy every asset into ``site``; returns CDN URL -> path relative to ``site``."""
    local: dict[str, Path] = {}
    specs = {spec for spec, _ in ASSETS.values()}
    for spec in sorted(specs):
        dest = site / _package_dir(spec)
        wanted = [m for s, m in ASSETS.values() if s == spec]
        if spec in EXTRA_FOLDERS:
            wanted.append(EXTRA_FOLDERS[spec])
        with tarfile.open(_tarball(spec, cache)) as tar:
            for member in tar.getmembers():
                inner = member.name.removeprefix("package/")
                if member.isfile() and any(
                    inner == w or (w.endswith("/") and inner.startswith(w)) for w in wanted
                ):
                    target = dest / inner
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src, open(target, "wb") as out:  # type: ignore[union-attr]
                        shutil.copyfileobj(src, out)
    for url, (spec, member) in ASSETS.items():
        local[url] = _package_dir(spec) / member
    return local


def rewrite(html: str, local: dict[str, Path], page_dir: Path, site: Path) -> str:
    """``html`` with every CDN URL replaced by a path relative to the page (pure)."""
    for url, rel in local.items():
        html = html.replace(f'"{url}"', f'"{os.path.relpath(site / rel, page_dir)}"')
    return _LOGO.sub(os.path.relpath(site / LOCAL_LOGO, page_dir), html)


def make_offline(site: Path, cache: Path) -> None:
    local = vendor(site, cache)
    for page in site.rglob("*.html"):
        page.write_text(rewrite(page.read_text(), local, page.parent, site))


def external_assets(site: Path) -> list[str]:
    """Scripts, stylesheets and images a page would load from another host."""
    return sorted({u for p in site.rglob("*.html") for u in _EXTERNAL.findall(p.read_text())})
