"""Browser tests: JupyterLab and Voila driven by Debian's Chromium through the `playwright` package.

Every test here is marked `browser`. Without Chromium or playwright they skip, naming what is
missing (`.ci/run` installs both). The servers run over a temporary copy of notebooks/, so
autosave never rewrites the repository, with news and update checks off, on free 127.0.0.1 ports.
Set LONGCTX_LAB_SCREENSHOTS=1 to also refresh notebooks/screenshots/<notebook>.png.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from ..servers import free_port, root_flag, serving

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
OUTPUT = Path(__file__).resolve().parent / "output"
# Debian's Chromium as root, offline: the flags that keep it from reaching for Google's services.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]
LAB_SETTINGS = {
    # Every cell in the DOM, so error outputs anywhere in a notebook can be found.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}
LOCAL_URLS = ("http://127.0.0.1", "data:", "blob:", "about:")
OUTSIDE = re.compile(r"^(?!(http|ws)://127\.0\.0\.1[:/])(https?|wss?)://")
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True,
                                      "@jupyterlab/extensionmanager-extension:plugin": True}}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives JupyterLab or Voila in headless Chromium (tests/browser)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    """$LONGCTX_LAB_CHROMIUM, else Debian's chromium on the PATH (never a browser playwright downloads)."""
    configured = os.environ.get("LONGCTX_LAB_CHROMIUM")
    return configured if configured and Path(configured).is_file() else shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("browser tests need Debian's Chromium: apt-get install -y chromium "
                    "(or set LONGCTX_LAB_CHROMIUM to a Chromium binary)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("browser tests need the Python package playwright: pip install playwright "
                    "(its own browser download is not used)")
    return path


@pytest.fixture(scope="session")
def browser(chromium: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def served_notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway copy of notebooks/ for the servers' root: autosave and kernels write there."""
    copy = tmp_path_factory.mktemp("served") / "notebooks"
    shutil.copytree(NOTEBOOKS, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "screenshots"))
    return copy


def _jupyter_env(home: Path) -> dict[str, str]:
    """Private config, runtime and settings dirs so no user setting or saved workspace leaks in."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
    for relative, values in LAB_SETTINGS.items():
        path = home / "settings" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    (home / "config" / "labconfig").mkdir(parents=True, exist_ok=True)
    (home / "config" / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    return env


@pytest.fixture(scope="session")
def lab(chromium: str, served_notebooks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab over the copy, on a free port, no token; yields its base URL."""
    home = tmp_path_factory.mktemp("lab-home")
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--ServerApp.root_dir={served_notebooks}", "--IdentityProvider.token=", "--ServerApp.password=",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"] + root_flag()
    with serving(command, port, "/api/status", served_notebooks, _jupyter_env(home), home / "server.log") as base:
        yield base


def _launcher():
    """tools/present.py as a module: the one place that says how presenter mode runs Voila."""
    spec = importlib.util.spec_from_file_location("present", ROOT / "tools" / "present.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def presenting(notebook: Path, home: Path) -> Iterator[str]:
    """Presenter mode (`make present NB=...`, no browser) on `notebook`, on a free port; yields its base URL.

    Voila starts preheating the chapter at once; `GET /` would take that kernel, so readiness is asked of a
    static file instead.
    """
    if importlib.util.find_spec("voila") is None:
        pytest.skip("presenter-mode test needs voila: pip install voila")
    port = free_port()
    present = _launcher()
    command = present.voila_command(notebook, port)
    env = present.voila_env(_jupyter_env(home))
    with serving(command, port, "/voila/static/require.min.js", notebook.parent, env, home / "server.log") as base:
        yield base


@contextmanager
def fresh_page(browser) -> Iterator:
    """A new page that records uncaught page errors and every request leaving 127.0.0.1; closed with its kernels."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.outside_requests = []
    page.page_errors = []
    context.on("request", lambda req: None if req.url.startswith(LOCAL_URLS) else page.outside_requests.append(req.url))
    context.route(OUTSIDE, lambda route: route.abort())  # fail at once, as in a room without internet
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    try:
        yield page
    finally:
        # Kernels holding models would pile up across tests: shut this page's down (JupyterLab pages only).
        page.evaluate("() => window.jupyterapp ? window.jupyterapp.serviceManager.sessions.shutdownAll() : null")
        context.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh page for one test; a full-page screenshot in tests/browser/output/ when the test failed."""
    with fresh_page(browser) as page:
        yield page
        OUTPUT.mkdir(exist_ok=True)
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            page.screenshot(path=str(OUTPUT / f"{request.node.name}-failed.png"), full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
