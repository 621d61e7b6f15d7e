"""The decision document (决定书 / 办结通知书) an applicant receives, as a PDF.

The font is embedded (a TrueType CJK font from Debian, or TONGBAN_PDF_FONT) so the document reads
the same on any viewer and years later; the QR code links to the application's progress page.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from tongban.applications import remedies
from tongban.applications.models import Application
from tongban.applications.states import Status
from tongban.config import get_settings
from tongban.kit.clock import local_date

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
# Documents exist only once a decision was taken.
DECIDED = frozenset({Status.APPROVED, Status.COMPLETED, Status.DENIED, Status.REJECTED})

TITLES = {
    Status.APPROVED: "准予办理决定书",
    Status.COMPLETED: "办结通知书",
    Status.DENIED: "不予批准决定书",
    Status.REJECTED: "不予受理通知书",
}


@lru_cache
def _font() -> str:
    configured = get_settings().pdf_font
    for path in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if path.exists():
            pdfmetrics.registerFont(TTFont("TongbanCJK", str(path), subfontIndex=0))
            return "TongbanCJK"
    # Not embedded: readers need their own CJK font, which every Chinese-locale reader has.
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if pdfmetrics.stringWidth(line + char, font, size) > width:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
    return lines


def decision_pdf(application: Application, applicant_name: str) -> bytes:
    """Render the decision; the application must have its items and department loaded (one
    decision for every item a bundle's department application covers)."""
    font = _font()
    items, department = application.items, application.item.department
    names = "、".join(i.name_zh for i in items)
    results = "；".join(i.result_zh for i in items)
    basis = list(dict.fromkeys(b for i in items for b in i.legal_basis_zh))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{TITLES[application.status]} {application.number}")
    pdf.setAuthor(department.name_zh)
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm

    pdf.setFont(font, 20)
    pdf.drawCentredString(width / 2, y, department.name_zh)
    y -= 12 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, TITLES[application.status])
    y -= 8 * mm
    pdf.setFont(font, 10)
    reference = application.result_number or application.number
    pdf.drawCentredString(width / 2, y, f"编号：{reference}")
    y -= 14 * mm

    decided = application.completed_at or application.decided_at or application.submitted_at
    opening = (
        f"你于{_date(application.submitted_at)}提交的“{names}”申请"
        f"（申请编号 {application.number}），经审查，"
    )
    if application.status in (Status.APPROVED, Status.COMPLETED):
        body = [f"{opening}符合规定条件，决定准予办理。办理结果：{results}。"]
        if application.result_note:
            body.append(f"说明：{application.result_note}")
    else:
        verb = "不予受理" if application.status is Status.REJECTED else "不予批准"
        rights = remedies.current()
        body = [
            f"{opening}决定{verb}。理由：{application.last_reason}",
            f"如不服本决定，可以自收到本决定之日起{rights.reconsideration_days}日内依法申请"
            f"行政复议，或者在{rights.lawsuit_months}个月内依法向人民法院提起行政诉讼。",
        ]
    body.insert(0, f"{applicant_name}：")
    body.append("设定依据：" + "；".join(basis))
    pdf.setFont(font, 12)
    for paragraph in body:
        for line in _wrap(paragraph, font, 12, right - left):
            pdf.drawString(left, y, line)
            y -= 7 * mm
        y -= 2 * mm

    y -= 10 * mm
    pdf.drawRightString(right, y, department.name_zh)
    y -= 7 * mm
    pdf.drawRightString(right, y, _date(decided))

    link = f"{get_settings().public_url.rstrip('/')}/applications/{application.number}"
    _draw_qr(pdf, link, x=left, y=25 * mm, size=28 * mm)
    pdf.setFont(font, 9)
    pdf.drawString(left + 32 * mm, 38 * mm, "扫码查看办理进度与结果")
    pdf.drawString(left + 32 * mm, 32 * mm, link)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _date(moment: datetime | None) -> str:
    if moment is None:
        return ""
    day = local_date(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _draw_qr(pdf: canvas.Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares: sharp at any print resolution, no image library."""
    matrix = segno.make(data, error="m").matrix
    cell = size / len(matrix)
    pdf.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(
                    x + col_index * cell,
                    y + size - (row_index + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def tracking_link(number: str) -> str:
    """Where a QR code on a counter document leads: progress by number and one-time code."""
    return f"{get_settings().public_url.rstrip('/')}/track?number={number}"


def counter_document_pdf(
    application: Application,
    *,
    title: str,
    document_number: str,
    applicant_name: str,
    clerk_name: str,
    issued_at: datetime,
    body: list[str],
    listed: list[str],
) -> bytes:
    """A document the single window prints for a walk-in applicant (受理回执, 一次性告知书):
    the application number, what was decided or what is missing, and a QR code to follow it."""
    font = _font()
    department = application.item.department
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{title} {application.number}")
    pdf.setAuthor("综合窗口")
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, title)
    y -= 8 * mm
    pdf.setFont(font, 10)
    pdf.drawCentredString(width / 2, y, f"编号：{document_number}")
    y -= 12 * mm
    pdf.setFont(font, 12)
    facts = [
        f"申请人：{applicant_name}",
        f"申请编号：{application.number}",
        "办理事项：" + "、".join(f"{i.name_zh}（{i.code}）" for i in application.items),
        f"承办部门：{department.name_zh}",
    ]
    for line in facts:
        pdf.drawString(left, y, line)
        y -= 7 * mm
    y -= 3 * mm
    for paragraph in body:
        for line in _wrap(paragraph, font, 12, right - left):
            pdf.drawString(left, y, line)
            y -= 7 * mm
        y -= 2 * mm
    for index, entry in enumerate(listed, start=1):
        for number, line in enumerate(_wrap(f"{index}. {entry}", font, 12, right - left - 5 * mm)):
            pdf.drawString(left + (5 * mm if number else 0), y, line)
            y -= 7 * mm
    y -= 8 * mm
    pdf.drawRightString(right, y, f"综合窗口受理人：{clerk_name}")
    y -= 7 * mm
    pdf.drawRightString(right, y, _date(issued_at))
    link = tracking_link(application.number)
    _draw_qr(pdf, link, x=left, y=25 * mm, size=28 * mm)
    pdf.setFont(font, 9)
    pdf.drawString(left + 32 * mm, 44 * mm, f"申请编号 {application.number}")
    pdf.drawString(left + 32 * mm, 38 * mm, "扫码或登录查询办理进度（验证码发送至申请人手机）")
    pdf.drawString(left + 32 * mm, 32 * mm, link)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
