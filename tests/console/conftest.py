"""The console in a real browser (Debian's chromium through Playwright) against the real stack.

One stack per module: the four services and the console as processes, fed the ten sample
submissions and one drowning report (an alert to acknowledge). Chromium is the system's
(`/usr/bin/chromium`, installed by `make test`), never a browser Playwright downloads.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, async_playwright

from duban.isolated import isolated_stack
from duban.runtime import Stack, drain, feed_sample

CHROMIUM = os.environ.get("DUBAN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKENS = {
    "admin": "console-admin-token-0123456789abcdef",
    "operator": "console-operator-token-0123456789ab",
    "reader": "console-reader-token-0123456789abcd",
}
#: Each token's holder, as the tokens file names them: the person recorded for what they do.
HOLDERS = {"admin": "局办公室王主任", "operator": "值班员李红", "reader": "督查室张科员"}
DROWNING = {
    "kind": "incident",
    "source": "巴中市第二中学",
    "category": "溺水",
    "grade": "一般",
    "deaths": 1,
    "injuries": 0,
    "cases": 1,
    "occurred_at": "2023-06-18 16:20",
    "reported_at": "2023-06-18 16:50",
    "summary": "学生周末在河边游泳溺水",
}


@dataclass
class Console:
    stack: Stack
    url: str
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
async def console(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    home = tmp_path_factory.mktemp("console-home")
    tokens = ",".join(f"{token}:{role}:{HOLDERS[role]}" for role, token in TOKENS.items())
    namespace = f"c{os.urandom(5).hex()}"
    async with isolated_stack(
        nats_url=nats_url, namespace=namespace, home=home, extra_env={"DUBAN_API_TOKENS": tokens}
    ) as stack:
        async with stack.client() as nc:
            await feed_sample(nc, stack.settings)
            await nc.jetstream().publish(
                stack.settings.subjects.inbound_submission,
                json.dumps(DROWNING, ensure_ascii=False).encode(),
                headers={"Nats-Msg-Id": "console-test-drowning"},
            )
        await drain(stack)
        assert stack.console_url is not None
        yield Console(stack, stack.console_url.rstrip("/"))


@pytest.fixture(scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserContext]:
    """One Chromium with a fresh profile for the module; each test starts signed out."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            accept_downloads=True,
            locale="zh-CN",
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def page(browser: BrowserContext) -> AsyncIterator[Page]:
    await browser.clear_cookies()
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: _keep_error(errors, message))
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        await page.close()


def _keep_error(errors: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        errors.append(f"console: {message.text}")


async def sign_in(page: Page, console: Console, role: str) -> None:
    """Sign in as `role`, signing out whoever was signed in first."""
    await page.context.clear_cookies()
    await page.goto(f"{console.url}/login")
    await page.get_by_label("访问令牌").fill(TOKENS[role])
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{console.url}/")


def errors_of(page: Page) -> list[str]:
    found: list[str] = page.errors  # type: ignore[attr-defined]
    return found


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
