"""督办台 in Chromium: sign-in, every page, the actions people take, and what is refused."""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from duban_contracts.rpc import ReportFileChunk, ReportFileRequest
from tests.console.conftest import HOLDERS, SCREENSHOTS, TOKENS, Console, errors_of, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PAGES_WITHOUT_IDS = ["/", "/alerts", "/uploads", "/rejected", "/reports", "/units"]
CSV = "学校,指标,数值,日期\n巴中市第二中学,新增运动场地,5,2023-05-01\n巴州区不存在的学校,新增运动场地,3,2023-05-02\n"


async def first_link(page: Page, console: Console, path: str, pattern: str) -> str:
    await page.goto(f"{console.url}{path}")
    href = await page.locator(f"a[href^='{pattern}']").first.get_attribute("href")
    assert href, f"no link to {pattern} on {path}"
    return href


async def drowning_alert(page: Page, console: Console) -> str:
    await page.goto(f"{console.url}/alerts?state=all&rule=safety_incident")
    href = await page.locator("#alert-table a[href^='/alerts/']").first.get_attribute("href")
    assert href
    return href.rsplit("/", 1)[1]


async def post_form(page: Page, path: str, fields: dict[str, str], *, with_csrf: bool) -> int:
    """POST a form from inside the page, as a script on the site could: with or without the session's CSRF token."""
    status: int = await page.evaluate(
        """async ([path, fields, withCsrf]) => {
            const body = new FormData();
            for (const [k, v] of Object.entries(fields)) body.append(k, v);
            if (withCsrf) body.append("csrf_token", document.querySelector("input[name=csrf_token]").value);
            const r = await fetch(path, {method: "POST", body, credentials: "same-origin"});
            return r.status;
        }""",
        [path, fields, with_csrf],
    )
    return status


async def test_without_a_session_every_page_redirects_to_sign_in(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        for path in [*PAGES_WITHOUT_IDS, "/targets/x", "/alerts/x", "/reports/x/html"]:
            response = await http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path
        login = await http.get("/login")
        assert login.status_code == 200
        assert 'name="token"' in login.text
        assert '<html lang="zh-CN">' in login.text


async def test_signing_in_sets_an_httponly_strict_expiring_session_cookie(console: Console, page: Page) -> None:
    await sign_in(page, console, "operator")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["duban_console"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["expires"] > time.time() + 3600
    assert TOKENS["operator"] not in session["value"]
    await expect(page.locator("header .who")).to_contain_text("值班人员")


async def test_every_page_loads_without_console_errors_and_fits_a_phone(console: Console, page: Page) -> None:
    await sign_in(page, console, "admin")
    task = "/tasks/7"  # 新建中小学校舍 is in task 7, and the sample reports progress towards it
    target = await first_link(page, console, task, "/targets/t07_school_building_new")
    alert = await first_link(page, console, "/alerts?state=all", "/alerts/")
    rejected = await first_link(page, console, "/rejected", "/rejected/")
    pages = {
        "board": "/",
        "task": task,
        "target": target,
        "alerts": "/alerts",
        "alert": alert,
        "upload": "/uploads",
        "rejected": "/rejected",
        "submission": rejected,
        "reports": "/reports",
        "units": "/units",
    }
    shots = SCREENSHOTS if os.environ.get("DUBAN_CONSOLE_SCREENSHOTS") else None
    for width, height, suffix in ((1280, 900, "desktop"), (375, 812, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            response = await page.goto(f"{console.url}{path}")
            assert response is not None
            assert response.status == 200, f"{path}: {response.status}"
            await expect(page.locator("h1")).to_be_visible()
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(shots / f"{name}-{suffix}.png"), full_page=True)
    assert errors_of(page) == []


async def test_every_input_has_a_label_and_the_page_is_keyboard_reachable(console: Console, page: Page) -> None:
    await sign_in(page, console, "admin")
    for path in ["/alerts", "/uploads", "/reports", "/units"]:
        await page.goto(f"{console.url}{path}")
        unlabelled = await page.evaluate(
            """() => [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
                .map(el => el.name)"""
        )
        assert unlabelled == [], f"{path}: inputs without a label: {unlabelled}"
    await page.goto(f"{console.url}/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "跳到主要内容"


async def test_an_operator_acknowledges_an_alert_and_sees_it_change_without_reloading(
    console: Console, page: Page
) -> None:
    await sign_in(page, console, "operator")
    alert_id = await drowning_alert(page, console)
    await page.goto(f"{console.url}/alerts")
    row = page.locator(f"#alert-{alert_id}")
    await expect(row.locator(".alert-state")).to_contain_text("待处理")
    await page.evaluate("window.notReloaded = true")
    await row.get_by_label("确认说明").fill("已联系学校，家长已到场")
    await row.get_by_role("button", name="确认").click()
    await expect(page.locator(f"#alert-{alert_id} .alert-state")).to_contain_text("已确认", timeout=15_000)
    assert await page.evaluate("window.notReloaded === true"), "the page reloaded"
    await page.goto(f"{console.url}/alerts/{alert_id}")
    trail = page.locator(".timeline")
    await expect(trail).to_contain_text("确认")
    await expect(trail).to_contain_text("已联系学校，家长已到场")
    await expect(trail).to_contain_text(HOLDERS["operator"])
    assert errors_of(page) == []


async def test_a_reader_is_refused_an_operator_action(console: Console, page: Page) -> None:
    await sign_in(page, console, "reader")
    alert_id = await drowning_alert(page, console)
    await page.goto(f"{console.url}/alerts/{alert_id}")
    status = await post_form(page, f"/alerts/{alert_id}/resolve", {"comment": "想关掉"}, with_csrf=True)
    assert status == 403
    await page.goto(f"{console.url}/alerts/{alert_id}")
    await expect(page.locator("#alert-state")).not_to_contain_text("已解除")
    await page.goto(f"{console.url}/uploads")
    await expect(page.get_by_role("button", name="上传并校验")).to_be_disabled()


async def test_a_form_without_its_csrf_token_is_refused(console: Console, page: Page) -> None:
    await sign_in(page, console, "admin")
    alert_id = await drowning_alert(page, console)
    await page.goto(f"{console.url}/alerts/{alert_id}")
    assert await post_form(page, f"/alerts/{alert_id}/resolve", {"comment": "x"}, with_csrf=False) == 403
    await page.goto(f"{console.url}/alerts/{alert_id}")
    await expect(page.locator("#alert-state")).not_to_contain_text("已解除")
    assert await post_form(page, "/reports", {"period": "2023-05"}, with_csrf=False) == 403


async def test_upload_a_spreadsheet_see_its_rows_and_correct_the_rejected_one(
    console: Console, page: Page, tmp_path: Path
) -> None:
    await sign_in(page, console, "operator")
    await page.goto(f"{console.url}/uploads")
    sheet = tmp_path / "运动场地进度.csv"
    sheet.write_text(CSV, encoding="utf-8")
    await page.get_by_label("表格文件").set_input_files(str(sheet))
    await page.get_by_role("button", name="上传并校验").click()
    await expect(page.locator("h1")).to_contain_text("上传结果")
    rows = page.locator("#upload-rows tbody tr")
    await expect(rows).to_have_count(2, timeout=20_000)
    await expect(page.locator("#upload-rows tr[data-status=accepted]")).to_have_count(1)
    rejected = page.locator("#upload-rows tr[data-status=rejected]")
    await expect(rejected).to_contain_text("巴州区不存在的学校")
    if os.environ.get("DUBAN_CONSOLE_SCREENSHOTS"):
        await page.screenshot(path=str(SCREENSHOTS / "upload-result-desktop.png"), full_page=True)
    await rejected.get_by_role("link", name="更正").click()
    await expect(page.locator("h1")).to_contain_text("更正退回的报送")
    await page.get_by_label("报送单位").fill("巴州区第七小学")
    await page.get_by_role("button", name="重新提交").click()
    await expect(page.locator("#flash")).to_contain_text("已重新提交并通过校验")
    await expect(page.locator("h1")).to_contain_text("报送已接收")
    assert errors_of(page) == []


async def test_a_file_ingest_cannot_read_is_refused_whole_with_its_reason(
    console: Console, page: Page, tmp_path: Path
) -> None:
    await sign_in(page, console, "operator")
    await page.goto(f"{console.url}/uploads")
    empty = tmp_path / "空表.csv"
    empty.write_bytes(b"")
    await page.get_by_label("表格文件").set_input_files(str(empty))
    await page.get_by_role("button", name="上传并校验").click()
    refusal = page.get_by_role("alert")
    await expect(refusal).to_contain_text("文件《空表.csv》未被接收")
    await expect(page.get_by_label("表格文件")).to_be_visible()  # the form is there to try again
    errors_of(page).clear()  # the browser logs the 400 the page was answered with


async def test_generate_and_download_a_report(console: Console, page: Page) -> None:
    await sign_in(page, console, "operator")
    await page.goto(f"{console.url}/reports")
    await page.get_by_label("报告期").fill("2023-06")
    await page.get_by_label("Excel").uncheck()
    await page.get_by_role("button", name="生成报告").click()
    link = page.locator("#report-table tr", has_text="2023-06").get_by_role("link", name="网页")
    await expect(link).to_be_visible(timeout=60_000)
    async with page.expect_download() as caught:
        await link.click()
    download = await caught.value
    downloaded = Path(await download.path()).read_bytes()
    content = downloaded.decode("utf-8")
    assert "<html" in content
    assert "2023" in content
    assert download.suggested_filename.endswith(".html")
    assert errors_of(page) == []
    href = await link.get_attribute("href")
    assert href
    report_id = href.split("/")[2]
    assert await file_in_slices(console, report_id, length=4096) == downloaded


async def file_in_slices(console: Console, report_id: str, *, length: int) -> bytes:
    """The report's bytes as `reports.file` gives them, `length` at a time, put back together."""
    parts: list[bytes] = []
    offset, total = 0, None
    async with console.stack.client() as nc:
        while total is None or offset < total:
            request = ReportFileRequest(report_id=report_id, format="html", offset=offset, length=length)
            reply = await nc.request(
                console.stack.settings.subjects.rpc("reports", "file"), request.model_dump_json().encode(), timeout=10
            )
            chunk = ReportFileChunk.model_validate_json(reply.data)
            data = base64.b64decode(chunk.data)
            assert len(data) == min(length, chunk.total - offset)
            parts.append(data)
            offset, total = offset + len(data), chunk.total
    assert len(parts) > 1, "the report fits one slice: the test would not see slices joined"
    return b"".join(parts)


async def test_an_admin_silences_and_an_operator_resolves_from_the_alert_page(console: Console, page: Page) -> None:
    await sign_in(page, console, "operator")
    await page.goto(f"{console.url}/alerts?rule=class_size")
    href = await page.locator("#alert-table a[href^='/alerts/']").first.get_attribute("href")
    assert href
    await page.goto(f"{console.url}{href}")
    assert await page.get_by_role("button", name="静默同类通知").count() == 0  # operators do not silence
    assert await post_form(page, f"{href}/silence", {"hours": "2"}, with_csrf=True) == 403
    errors_of(page).clear()  # the browser logs the refusal it was sent to provoke
    await sign_in(page, console, "admin")
    await page.goto(f"{console.url}{href}")
    await page.get_by_label("静默时长（小时）").fill("12")
    await page.get_by_label("静默原因").fill("已安排分班，暂停提醒")
    await page.get_by_role("button", name="静默同类通知").click()
    await expect(page.locator("#flash")).to_contain_text("已静默 12 小时")
    await page.reload()
    await expect(page.get_by_text("已安排分班，暂停提醒")).to_be_visible()
    await sign_in(page, console, "operator")
    await page.goto(f"{console.url}{href}")
    await page.get_by_role("button", name="解除预警").click()
    await expect(page.locator("#alert-state")).to_contain_text("已解除", timeout=15_000)
    await expect(page.locator(".timeline")).to_contain_text(re.compile(rf"解除\s*{HOLDERS['operator']}：人工解除"))
    assert errors_of(page) == []


async def test_health_readiness_and_metrics(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        assert (await http.get("/healthz")).json()["service"] == "console"
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["nats"] is True
        metrics = (await http.get("/metrics")).text
        assert 'duban_service_info{service="console"}' in metrics
        assert "duban_console_page_seconds_bucket" in metrics


async def test_failed_sign_ins_are_refused_then_limited(console: Console) -> None:
    """Last in the module: it uses up this address's allowance of failures."""
    async with httpx.AsyncClient(base_url=console.url) as http:
        form = await http.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        statuses = [
            (await http.post("/login", data={"token": f"wrong-token-{n:020d}", "csrf_token": csrf[1]})).status_code
            for n in range(6)
        ]
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        limited = await http.post("/login", data={"token": TOKENS["admin"], "csrf_token": csrf[1]})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
