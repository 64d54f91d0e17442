"""Browser-test fixtures: the app served by uvicorn on a free port in a thread, and Debian's
chromium driven by Playwright. Tests using them are marked ``browser`` and skip cleanly when
``/usr/bin/chromium`` or the playwright package is missing (``playwright install`` cannot download
here; the system chromium is used through ``executable_path``)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("POSTGUARD_TEST_CHROMIUM", "/usr/bin/chromium"))
PHONE = {"width": 390, "height": 844}  # a common phone screen, in CSS pixels


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` on a free port in a thread while the block runs; yields its base URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server() -> Iterator[Callable]:
    """``live_server(app) -> base_url``: serve ``app`` until the test ends."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app))


@pytest.fixture(scope="session")
def browser():
    required = os.environ.get("POSTGUARD_TEST_REQUIRE_BROWSER") == "1"  # CI: absence is a failure
    if not CHROMIUM.exists():
        (pytest.fail if required else pytest.skip)(f"no chromium at {CHROMIUM}")
    try:
        from playwright import sync_api
    except ImportError:
        (pytest.fail if required else pytest.skip)("the playwright package is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) with a phone-sized screen."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()
