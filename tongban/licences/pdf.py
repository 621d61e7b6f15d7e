"""The licence as a PDF: the visible licence, the QR code to verify it, and the signed payload
in the information dictionary (see ``seal``). Fonts, text wrapping and QR drawing are the
decision documents' (``applications.documents``)."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFInfo, PDFString
from reportlab.pdfgen import canvas

from tongban.applications.documents import _draw_qr, _font, _wrap
from tongban.licences.schemas import LicenceTypeSpec


class _Info(PDFInfo):  # type: ignore[misc]
    """The information dictionary with the licence entries beside the usual ones."""

    def __init__(self, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra

    def format(self, document: Any) -> bytes:
        entries: dict[str, Any] = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Producer": PDFString("tongban"),
            "Creator": PDFString("tongban"),
        }
        entries.update({k: PDFString(v) for k, v in self.extra.items()})
        formatted: bytes = PDFDictionary(entries).format(document)
        return formatted


def render(
    spec: LicenceTypeSpec, payload: dict[str, Any], verify_url: str, info: dict[str, str]
) -> bytes:
    """The unsealed PDF; ``seal.seal_pdf`` fills in the seal."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    pdf._doc.info = _Info(info)
    pdf.setTitle(f"{spec.name_zh} {payload['number']}")
    pdf.setAuthor(payload["department"]["name"])
    width, height = A4
    colour = HexColor(spec.layout.colour)
    pdf.setStrokeColor(colour)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    left, right = 28 * mm, width - 28 * mm
    y = height - 40 * mm
    pdf.setFillColor(colour)
    pdf.setFont(font, 30)
    pdf.drawCentredString(width / 2, y, spec.layout.title_zh)
    y -= 9 * mm
    pdf.setFont(font, 11)
    pdf.drawCentredString(width / 2, y, spec.layout.title_en)
    pdf.setFillColorRGB(0, 0, 0)
    y -= 10 * mm
    pdf.setFont(font, 10)
    pdf.drawCentredString(width / 2, y, f"编号：{payload['number']}")
    y -= 14 * mm
    holder = payload["holder"]
    rows = [
        ("持证主体", holder["name"]),
        (
            "统一社会信用代码" if holder["kind"] == "company" else "身份证件号码",
            holder["id_number"],
        ),
    ]
    rows += [(f.label_zh, payload["fields"].get(f.name)) for f in spec.fields]
    rows += [
        ("发证机关", payload["department"]["name"]),
        ("发证日期", _day(payload["issued_on"])),
        ("有效期至", _day(payload["expires_on"]) if payload["expires_on"] else "长期"),
    ]
    label_width = 42 * mm
    pdf.setFont(font, 12)
    for label, value in rows:
        pdf.drawString(left, y, label)
        lines = _wrap(
            str(value if value not in (None, "") else "—"), font, 12, right - left - label_width
        )
        for line in lines:
            pdf.drawString(left + label_width, y, line)
            y -= 8 * mm
        y -= 1 * mm
    if spec.layout.note_zh:
        y -= 4 * mm
        pdf.setFont(font, 9)
        for line in _wrap(spec.layout.note_zh, font, 9, right - left):
            pdf.drawString(left, y, line)
            y -= 5 * mm
    _draw_seal(
        pdf, font, payload["department"]["name"], x=right - 25 * mm, y=55 * mm, colour=colour
    )
    _draw_qr(pdf, verify_url, x=left, y=25 * mm, size=30 * mm)
    pdf.setFont(font, 8)
    pdf.drawString(left + 34 * mm, 48 * mm, "扫码或上传本文件核验真伪与状态")
    pdf.drawString(left + 34 * mm, 43 * mm, f"签名密钥 {payload['key_id']}（{payload['suite']}）")
    pdf.drawString(left + 34 * mm, 38 * mm, verify_url[:90])
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _draw_seal(
    pdf: canvas.Canvas, font: str, name: str, *, x: float, y: float, colour: Any
) -> None:
    """The visible seal: a ring with the department's name. It only shows where the electronic
    seal is; what proves the licence is the signature, not this drawing."""
    pdf.saveState()
    pdf.setStrokeColor(colour)
    pdf.setFillColor(colour)
    pdf.setLineWidth(2)
    pdf.circle(x, y, 20 * mm, stroke=1, fill=0)
    pdf.setFont(font, 9)
    size = 9
    text = name[:14]
    pdf.drawCentredString(x, y + 2 * mm, text)
    pdf.setFont(font, size + 1)
    pdf.drawCentredString(x, y - 6 * mm, "电子证照专用章")
    pdf.restoreState()


def _day(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"
