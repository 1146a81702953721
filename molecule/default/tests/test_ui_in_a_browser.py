"""The UI works from another machine's browser: headless Chromium (Debian's
package) on the machine running the tests loads the exposed host's UI by the
host's own address (never 127.0.0.1), logs in the way a user does, and finds
the smoke runs Completed on the Runs page. A screenshot of what it saw is kept
in .cache/artifacts/ (not committed)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

HOST = "prefect-bookworm"  # the exposed host of this scenario (server_host 0.0.0.0, auth)
CREDENTIALS = "admin:molecule-secret"
SMOKE_FLOWS = ["hello", "etl", "sequential-vs-concurrent", "shopping", "retrying", "cached",
               "sentence-stats", "gather-sources", "make-report"]
ARTIFACTS = Path(__file__).resolve().parents[3] / ".cache" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def address() -> str:
    inspect = subprocess.run(
        ["podman", "inspect", "--format", "{{json .NetworkSettings}}", HOST],
        capture_output=True, text=True, check=True,
    )
    ip = json.loads(inspect.stdout)["IPAddress"]
    assert ip and not ip.startswith("127."), ip
    return ip


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open(browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(url, wait_until="networkidle")
    return page


def test_ui_asks_for_credentials_from_another_machine(browser, address):
    page = _open(browser, f"http://{address}:4200/")
    page.get_by_placeholder("admin:pass").wait_for(timeout=30_000)
    page.close()


def test_runs_page_shows_the_smoke_runs_completed(browser, address):
    page = _open(browser, f"http://{address}:4200/")
    page.get_by_placeholder("admin:pass").fill(CREDENTIALS)
    page.get_by_role("button", name="Login").click()
    page.get_by_placeholder("admin:pass").wait_for(state="detached", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.goto(f"http://{address}:4200/runs", wait_until="networkidle")
    page.get_by_text("Completed").first.wait_for(timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-runs.png"), full_page=True)
    text = page.inner_text("body")
    missing = [flow for flow in SMOKE_FLOWS if flow not in text]
    assert not missing, f"smoke flows not listed on the Runs page: {missing}"
    assert "Can't connect to Server API" not in text
    for bad in ("Failed", "Crashed", "Cancelled"):
        assert f"\n{bad}\n" not in text, f"a run shows {bad}"
    assert text.count("\nCompleted\n") >= len(SMOKE_FLOWS)
    page.close()


# --- no error toast after a converge -------------------------------------------------------
# The UI's ApiStatusToast ("Oops. Something went wrong.") shows for any API answer
# 401, 403 or 5xx, or a request that fails: a database that is busy (SQLite, right
# after the smoke test's runs) would show as one.

TOAST = "Something went wrong"
LOADS = 20


def _watch(page: Page) -> list[str]:
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.request.method} {r.url} -> {r.status}")
            if r.status >= 400 and "/api/" in r.url else None)
    page.on("requestfailed", lambda r: bad.append(f"{r.method} {r.url} -> {r.failure}")
            if "/api/" in r.url else None)
    return bad


def test_the_runs_page_shows_no_error_right_after_a_converge(browser, address):
    """Logged in once (through /, the UI's own entry), the Runs page loaded again and again
    in the minutes after the converge that ran the smoke test: no toast, no failed call."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://{address}:4200/", wait_until="networkidle")
    page.get_by_placeholder("admin:pass").fill(CREDENTIALS)
    page.get_by_role("button", name="Login").click()
    # The UI checks the credentials against the API before it keeps them: on a
    # loaded machine that outlasts networkidle, and a page closed earlier logs nobody in.
    page.get_by_placeholder("admin:pass").wait_for(state="detached", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.close()
    failures = []
    for load in range(LOADS):
        page = context.new_page()
        bad = _watch(page)
        page.goto(f"http://{address}:4200/runs", wait_until="networkidle")
        page.wait_for_timeout(1500)
        toast = page.get_by_text(TOAST).count() > 0
        if toast or bad:
            failures.append({"load": load, "toast": toast, "requests": bad})
        page.close()
    context.close()
    assert not failures, failures


@pytest.mark.xfail(strict=True, reason="Prefect's own: the V1 login page calls /api/admin/version and "
                   "/api/admin/settings before the user has logged in and toasts their 401s "
                   "(PrefectHQ/prefect#18518); a stock server does the same. Fails (XPASS) once fixed.")
def test_a_runs_link_opened_before_logging_in_shows_no_error(browser, address):
    context = browser.new_context()
    page = context.new_page()
    bad = _watch(page)
    page.goto(f"http://{address}:4200/runs", wait_until="networkidle")
    page.get_by_placeholder("admin:pass").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    toast = page.get_by_text(TOAST).count() > 0
    context.close()
    assert not toast, bad
