"""The console's pages (server-rendered, Chinese) and the few actions people take on them.

Every page needs a session; every POST needs the session's CSRF token and a role allowed to do it.
An action sent by the page's script (`X-Requested-With: fetch`) gets a JSON answer and the page
refreshes its live parts in place; without the script the form posts and is redirected back.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from duban_contracts.reporting_units import load_reporting_units
from duban_kit.http import Role

from .. import views
from ..auth import Permission, Principal
from ..backend import Refused, Unavailable
from ..security import CSRF_FIELD, csrf_token, csrf_valid, current, start_session

if TYPE_CHECKING:
    from ..app import Console

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
HEARTBEAT_SECONDS = 15.0
REPORT_FORMATS = ("html", "pdf", "xlsx", "md")


@dataclass
class Ctx:
    request: Request
    principal: Principal
    form: FormData | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Ctx], Awaitable[Response]]


def templates() -> Jinja2Templates:
    engine = Jinja2Templates(directory=TEMPLATES_DIR)
    env = engine.env
    env.filters |= {"percent": views.percent, "number": views.number, "local": views.local, "day": views.day}
    env.globals |= {
        "light": views.light,
        "resolve_reason": views.resolve_reason,
        "SEVERITY_ZH": views.SEVERITY_ZH,
        "STATE_ZH": views.STATE_ZH,
        "RULE_ZH": views.RULE_ZH,
        "TRAIL_ZH": views.TRAIL_ZH,
        "REPORT_KIND_ZH": views.REPORT_KIND_ZH,
        "REPORT_STATUS_ZH": views.REPORT_STATUS_ZH,
        "FORMAT_ZH": views.FORMAT_ZH,
        "SUBMISSION_STATUS_ZH": views.SUBMISSION_STATUS_ZH,
        "KIND_ZH": views.KIND_ZH,
        "FIELD_ZH": views.FIELD_ZH,
        "Permission": Permission,
    }
    return engine


def wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


def routes(console: Console) -> list[BaseRoute]:  # noqa: PLR0915 - one place lists every page
    engine = templates()
    units = {u.id: u for u in load_reporting_units().units}

    def render(ctx_or_request: Ctx | Request, name: str, code: int = 200, **context: Any) -> Response:
        request = ctx_or_request.request if isinstance(ctx_or_request, Ctx) else ctx_or_request
        principal = ctx_or_request.principal if isinstance(ctx_or_request, Ctx) else None
        flash = request.session.pop("flash", None)
        return engine.TemplateResponse(
            request,
            name,
            {
                "principal": principal,
                "csrf": csrf_token(request),
                "flash": flash,
                "units": units,
                "no_tokens": not len(console.directory),
                **context,
            },
            status_code=code,
        )

    def problem_page(ctx: Ctx | Request, status: int, title: str, detail: str) -> Response:
        request = ctx.request if isinstance(ctx, Ctx) else ctx
        if request.method == "POST" and wants_json(request):
            return JSONResponse({"ok": False, "message": f"{title}：{detail}"}, status_code=status)
        return render(ctx, "problem.html", code=status, title=title, detail=detail)

    def done(ctx: Ctx, ok: bool, message: str, back: str, **data: Any) -> Response:
        """The answer to an action: JSON for the page's script, else back to the page with a message."""
        if wants_json(ctx.request):
            return JSONResponse({"ok": ok, "message": message, **data}, status_code=200 if ok else 400)
        ctx.request.session["flash"] = {"ok": ok, "message": message}
        return RedirectResponse(back, status_code=303)

    def page(
        name: str, handler: Handler, allowed: frozenset[Role] | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            try:
                principal = current(request, console.directory)
                if principal is None:
                    if request.method == "GET":
                        target = urllib.parse.quote(
                            request.url.path + (f"?{request.url.query}" if request.url.query else "")
                        )
                        return RedirectResponse(f"/login?next={target}", status_code=303)
                    return problem_page(request, 401, "请先登录", "会话已过期或未登录，请重新登录。")
                ctx = Ctx(request, principal)
                if request.method == "POST":
                    ctx.form = await request.form(max_files=1, max_part_size=console.settings.max_upload_bytes)
                    if not csrf_valid(request, ctx.form.get(CSRF_FIELD)):
                        return problem_page(
                            ctx, 403, "请求已被拒绝", "表单缺少有效的安全校验码（CSRF），请刷新页面后重试。"
                        )
                    if allowed is not None and not principal.may(allowed):
                        return problem_page(
                            ctx, 403, "无权执行此操作", f"您的角色（{principal.role_zh}）不能执行此操作，请联系管理员。"
                        )
                try:
                    return await handler(ctx)
                except Unavailable as error:
                    return problem_page(ctx, 503, "服务暂时无法应答", f"{error.service} 服务未应答，请稍后刷新。")
                except Refused as error:
                    status = 404 if error.code == "unknown_ref" else 400
                    return problem_page(ctx, status, "未找到或无法处理", error.message)
            finally:
                console.metrics.page_seconds.labels(page=name).observe(time.perf_counter() - started)

        return endpoint

    # --- sign-in ---------------------------------------------------------------------------

    async def login_form(request: Request) -> Response:
        if current(request, console.directory) is not None:
            return RedirectResponse("/", status_code=303)
        return render(request, "login.html", next=_safe_next(request.query_params.get("next")))

    async def login(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        form = await request.form()
        if not csrf_valid(request, form.get(CSRF_FIELD)):
            return render(request, "login.html", code=403, error="页面已过期，请重新输入令牌。", next="/")
        wait = console.limiter.retry_after(address)
        if wait is not None:
            console.metrics.sign_ins.labels(outcome="limited").inc()
            response = render(
                request, "login.html", code=429, error=f"失败次数过多，请 {int(wait) + 1} 秒后再试。", next="/"
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        token = form.get("token")
        principal = console.directory.sign_in(token) if isinstance(token, str) and token.strip() else None
        if principal is None:
            console.limiter.failed(address)
            console.metrics.sign_ins.labels(outcome="refused").inc()
            return render(request, "login.html", code=401, error="令牌无效，请检查后重试。", next=form.get("next"))
        start_session(request, principal)
        console.metrics.sign_ins.labels(outcome="ok").inc()
        next_page = form.get("next")
        return RedirectResponse(_safe_next(next_page if isinstance(next_page, str) else None), status_code=303)

    async def logout(ctx: Ctx) -> Response:
        ctx.request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --- 计划看板 ---------------------------------------------------------------------------

    async def board(ctx: Ctx) -> Response:
        status, alerts = await asyncio.gather(console.backend.status(), console.backend.alerts("open"))
        view = status["view"]
        targets = views.walk(view, "target")
        attention = [t for t in targets if t["status"] in ("overdue", "critical", "lagging")]
        attention.sort(key=lambda t: ({"overdue": 0, "critical": 1, "lagging": 2}[t["status"]], t["completion"]))
        return render(
            ctx,
            "board.html",
            nav="board",
            status=status,
            view=view,
            attention=attention,
            alert_counts=views.counts_by(alerts, "severity"),
            open_alerts=len(alerts),
        )

    async def task(ctx: Ctx) -> Response:
        status = await console.backend.status("task", ctx.request.path_params["no"])
        return render(ctx, "task.html", nav="board", status=status, view=status["view"])

    async def target(ctx: Ctx) -> Response:
        ref = ctx.request.path_params["target_id"]
        status, history, points = await asyncio.gather(
            console.backend.status("target", ref),
            console.backend.target_history(ref),
            console.backend.status_history("target", ref),
        )
        return render(
            ctx,
            "target.html",
            nav="board",
            status=status,
            view=status["view"],
            history=history,
            chart=views.chart(points),
            points=points[-12:],
        )

    # --- 预警 -------------------------------------------------------------------------------

    async def alerts_page(ctx: Ctx) -> Response:
        q = ctx.request.query_params
        state = (
            q.get("state", "open")
            if q.get("state") in ("open", "firing", "acknowledged", "resolved", "all")
            else "open"
        )
        everything = await console.backend.alerts(state, q.get("rule") or None, limit=1000)
        severity = q.get("severity") or ""
        shown = [a for a in everything if not severity or a["severity"] == severity]
        shown.sort(key=lambda a: (views.SEVERITY_ORDER.index(a["severity"]), a["state"] != "firing", a["first_seen"]))
        return render(
            ctx,
            "alerts.html",
            nav="alerts",
            alerts=shown[:300],
            total=len(shown),
            by_severity=views.counts_by(everything, "severity"),
            by_rule=views.counts_by(everything, "rule"),
            state=state,
            severity=severity,
            rule=q.get("rule") or "",
            severities=views.SEVERITY_ORDER,
        )

    async def alert_page(ctx: Ctx) -> Response:
        detail = await console.backend.alert(ctx.request.path_params["alert_id"])
        silences = await console.backend.silences() if ctx.principal.may(Permission.SILENCE) else []
        return render(
            ctx,
            "alert.html",
            nav="alerts",
            detail=detail,
            alert=detail["alert"],
            trail=views.fold_trail(detail["trail"]),
            silences=silences,
        )

    def _comment(ctx: Ctx) -> str | None:
        assert ctx.form is not None
        text = ctx.form.get("comment")
        return text.strip()[:500] or None if isinstance(text, str) else None

    async def acknowledge(ctx: Ctx) -> Response:
        alert_id = ctx.request.path_params["alert_id"]
        reply = await console.backend.acknowledge(alert_id, ctx.principal.name, _comment(ctx))
        message = "已确认，升级与重复提醒已停止。" if reply.get("ok") else f"未能确认：{reply.get('message')}"
        return done(ctx, bool(reply.get("ok")), message, _back(ctx, f"/alerts/{alert_id}"))

    async def resolve(ctx: Ctx) -> Response:
        alert_id = ctx.request.path_params["alert_id"]
        reply = await console.backend.resolve(alert_id, ctx.principal.name, _comment(ctx))
        message = "已解除。" if reply.get("ok") else f"未能解除：{reply.get('message')}"
        return done(ctx, bool(reply.get("ok")), message, _back(ctx, f"/alerts/{alert_id}"))

    async def silence(ctx: Ctx) -> Response:
        alert_id = ctx.request.path_params["alert_id"]
        assert ctx.form is not None
        detail = await console.backend.alert(alert_id)
        labels: dict[str, str] = detail["alert"]["labels"]
        matchers = [f'{k}="{v}"' for k, v in sorted(labels.items()) if k in ("rule", "unit_id", "target_id", "disease")]
        try:
            hours = min(max(float(str(ctx.form.get("hours") or 24)), 1.0), 24.0 * 30)
        except ValueError:
            return done(ctx, False, "静默时长须为数字（小时）。", f"/alerts/{alert_id}")
        reply = await console.backend.silence(matchers, hours, ctx.principal.name, _comment(ctx))
        message = (
            f"已静默 {hours:g} 小时：{'，'.join(matchers)}" if reply.get("ok") else f"未能静默：{reply.get('message')}"
        )
        return done(ctx, bool(reply.get("ok")), message, f"/alerts/{alert_id}")

    # --- 填报 / 退回 -----------------------------------------------------------------------

    async def upload_form(ctx: Ctx) -> Response:
        return render(ctx, "upload.html", nav="upload", result=None)

    async def upload(ctx: Ctx) -> Response:
        assert ctx.form is not None
        sheet = ctx.form.get("file")
        if not isinstance(sheet, UploadFile) or not sheet.filename:
            return render(ctx, "upload.html", code=400, nav="upload", result=None, error="请选择要上传的表格文件。")
        data = await sheet.read(console.settings.max_upload_bytes + 1)
        token = console.directory.token(ctx.principal.fingerprint)
        assert token is not None  # the session's principal came from this fingerprint
        fields = {k: str(ctx.form.get(k) or "").strip() for k in ("source", "kind", "map")}
        outcome = await console.backend.upload(token, sheet.filename, data, fields)
        body = outcome.body
        if outcome.status >= 400 or "file_id" not in body:
            status = outcome.status if outcome.status >= 400 else 502
            return render(ctx, "upload.html", code=status, nav="upload", refusal=body, filename=sheet.filename)
        rows = await console.backend.file_rows(body["file_id"])
        return render(
            ctx,
            "upload_result.html",
            nav="upload",
            **_result(body["file_id"], rows),
            reply=body,
            filename=sheet.filename,
            mapping=body.get("mapping"),
        )

    async def upload_result(ctx: Ctx) -> Response:
        file_id = ctx.request.path_params["file_id"]
        rows = await console.backend.file_rows(file_id)
        return render(ctx, "upload_result.html", nav="upload", **_result(file_id, rows), reply=None, mapping=None)

    async def rejected_page(ctx: Ctx) -> Response:
        rejected = await console.backend.rejected(limit=2000)
        rejected.reverse()  # newest first: today's work on top
        return render(
            ctx,
            "rejected.html",
            nav="rejected",
            rejected=rejected[:300],
            total=len(rejected),
            by_code=views.counts_by(rejected, "code"),
        )

    async def submission_page(ctx: Ctx) -> Response:
        detail = await console.backend.submission(ctx.request.path_params["submission_id"])
        return render(
            ctx,
            "submission.html",
            nav="rejected",
            detail=detail,
            submission=detail["submission"],
            fields=detail.get("fields"),
        )

    async def resubmit(ctx: Ctx) -> Response:
        submission_id = ctx.request.path_params["submission_id"]
        assert ctx.form is not None
        fields: dict[str, Any] = {}
        keys = ctx.form.getlist("field_key")
        values = ctx.form.getlist("field_value")
        for key, value in zip(keys, values, strict=False):
            if isinstance(key, str) and key.strip() and isinstance(value, str):
                fields[key.strip()] = value.strip()
        if not fields:
            return done(ctx, False, "更正后的内容为空。", f"/rejected/{urllib.parse.quote(submission_id, safe='')}")
        reply = await console.backend.resubmit(submission_id, fields, ctx.principal.name)
        ok = bool(reply.get("ok"))
        message = "已重新提交并通过校验。" if ok else f"重新提交后仍未通过：{reply.get('message')}"
        return done(ctx, ok, message, f"/rejected/{urllib.parse.quote(submission_id, safe='')}")

    # --- 报告 ---------------------------------------------------------------------------------

    async def reports_page(ctx: Ctx) -> Response:
        kind = ctx.request.query_params.get("kind", "")
        reports = [r for r in await console.backend.reports() if not kind or r["kind"] == kind]
        reports.reverse()  # newest first
        return render(
            ctx,
            "reports.html",
            nav="reports",
            reports=reports[:200],
            total=len(reports),
            formats=REPORT_FORMATS,
            kind=kind,
        )

    async def generate(ctx: Ctx) -> Response:
        assert ctx.form is not None
        period = str(ctx.form.get("period") or "").strip()
        formats = [f for f in ctx.form.getlist("formats") if f in REPORT_FORMATS] or ["html"]
        if not period:
            return done(ctx, False, "请填写报告期，例如 2023-06、2023-Q2 或 2023。", "/reports")
        reply = await console.backend.generate(period, formats)  # type: ignore[arg-type]
        ok = bool(reply.get("ok"))
        message = f"已提交生成 {period} 报告，完成后出现在下方列表。" if ok else f"无法生成：{reply.get('message')}"
        return done(ctx, ok, message, "/reports", report_id=reply.get("data", {}).get("report_id"))

    async def download(ctx: Ctx) -> Response:
        report_id = ctx.request.path_params["report_id"]
        fmt = ctx.request.path_params["fmt"]
        if fmt not in REPORT_FORMATS:
            return problem_page(ctx, 404, "未找到", f"没有 {fmt} 格式。")
        first, chunks = await console.backend.report_file(report_id, fmt)
        media = {
            "html": "text/html; charset=utf-8",
            "pdf": "application/pdf",
            "md": "text/markdown; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[fmt]
        name = urllib.parse.quote(first["filename"])
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "Content-Length": str(first["total"])}
        return StreamingResponse(chunks, media_type=media, headers=headers)

    # --- 单位 ---------------------------------------------------------------------------------

    async def units_page(ctx: Ctx) -> Response:
        reply = await console.backend.units()
        rows = reply["units"]
        for row in rows:
            unit = units.get(row["unit_id"])
            row["kind"] = unit.kind if unit else "external"
            row["rate"] = row["received"] / row["expected"] if row["expected"] else None
            row["timely"] = row["on_time"] / row["expected"] if row["expected"] else None
        kind = ctx.request.query_params.get("kind", "")
        shown = [r for r in rows if not kind or r["kind"] == kind]
        shown.sort(key=lambda r: (r["rate"] if r["rate"] is not None else 2, r["timely"] or 0, r["unit_id"]))
        totals = {
            "expected": sum(r["expected"] for r in shown),
            "received": sum(r["received"] for r in shown),
            "on_time": sum(r["on_time"] for r in shown),
            "rejected": sum(r["rejected"] for r in shown),
        }
        return render(ctx, "units.html", nav="units", rows=shown, totals=totals, as_of=reply.get("as_of"), kind=kind)

    # --- live changes ------------------------------------------------------------------------

    async def events(request: Request) -> Response:
        if current(request, console.directory) is None:
            return Response("请先登录", status_code=401, media_type="text/plain; charset=utf-8")

        async def stream() -> AsyncIterator[str]:
            async with console.live.listen() as queue:
                yield "retry: 3000\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if item.get("type") == "closed":
                        return
                    yield f"data: {json.dumps(item, ensure_ascii=False)}\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", page("logout", logout), methods=["POST"]),
        Route("/", page("board", board)),
        Route("/tasks/{no}", page("task", task)),
        Route("/targets/{target_id}", page("target", target)),
        Route("/alerts", page("alerts", alerts_page)),
        Route("/alerts/{alert_id}", page("alert", alert_page)),
        Route("/alerts/{alert_id}/ack", page("ack", acknowledge, Permission.ACKNOWLEDGE), methods=["POST"]),
        Route("/alerts/{alert_id}/resolve", page("resolve", resolve, Permission.RESOLVE), methods=["POST"]),
        Route("/alerts/{alert_id}/silence", page("silence", silence, Permission.SILENCE), methods=["POST"]),
        Route("/uploads", page("upload_form", upload_form), methods=["GET"]),
        Route("/uploads", page("upload", upload, Permission.UPLOAD), methods=["POST"]),
        Route("/uploads/{file_id}", page("upload_result", upload_result)),
        Route("/rejected", page("rejected", rejected_page)),
        Route("/rejected/{submission_id:path}", page("submission", submission_page), methods=["GET"]),
        Route("/rejected/{submission_id:path}", page("resubmit", resubmit, Permission.CORRECT), methods=["POST"]),
        Route("/reports", page("reports", reports_page), methods=["GET"]),
        Route("/reports", page("generate", generate, Permission.GENERATE), methods=["POST"]),
        Route("/reports/{report_id}/{fmt}", page("download", download)),
        Route("/units", page("units", units_page)),
        Route("/events", events),
    ]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no `//host`, no scheme): a sign-in never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _back(ctx: Ctx, default: str) -> str:
    assert ctx.form is not None
    back = ctx.form.get("back")
    return _safe_next(back) if isinstance(back, str) and back else default


def _result(file_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"file_id": file_id, "rows": rows, "counts": views.counts_by(rows, "status")}
