"""The pages in a real browser: Debian's Chromium (installed by tests/debian.py when missing) driven by Playwright's
Python package (never a browser download), against the real `fhir-ire serve`. Every page a test opens is checked for
console errors; screenshots go to the test's tmp folder, and into docs/img/ when UI_SCREENSHOTS=1."""

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED, serve_process
from tests.debian import require

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DOCS_IMG = ROOT / "docs" / "img"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return require("chromium", "chromium", "chromium-driver")


@pytest.fixture(scope="session")
def base_url(tmp_path_factory):
    """The real server over the committed bundles (with the full NUCC table when ../shared is beside the clone), on
    its default settings: Chromium keeps up to 6 idle keep-alive connections per host, more than the default 4
    request threads, which idle connections no longer hold (tests/ops/test_connections.py)."""
    nucc = SHARED / "reference" / "nucc_taxonomy_251.csv"
    args = ["--bundles", str(ROOT / "bundles")] + (["--nucc", str(nucc)] if nucc.is_file() else [])
    with serve_process(args, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is a test dependency")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1366, "height": 900})
        yield context
        context.close()


class Watched:
    """A browser tab that records console errors, uncaught exceptions and failed subresource loads."""

    def __init__(self, page, base: str, folder: Path):
        self.page, self.base, self.folder, self.errors = page, base, folder, []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))

    def open(self, path: str, status: int = 200):
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"
        if status == 200:
            assert self.errors == [], self.errors
        return response

    def shot(self, name: str) -> Path:
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        if os.environ.get("UI_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_IMG / path.name)
        return path


@pytest.fixture
def tab(browser, base_url, tmp_path):
    page = browser.new_page()
    watched = Watched(page, base_url, tmp_path)
    yield watched
    page.close()
    assert [e for e in watched.errors if "status of 404" not in e] == [], watched.errors
