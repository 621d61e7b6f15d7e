"""Materials the platform writes itself instead of asking for an upload, each a PDF signed for
the applicant: the application form, a declaration or a commitment letter produced from the
filled form (``catalog`` ``generated``); the record of the verified identity that stands in for
a copy of the ID card; the record fetched through the exchange.

Each PDF carries a statement (what it is, for which application and material, who it is signed
for and at which assurance level of their sign-in, when) and is sealed by the handling
department's signing key (``licences.keys``), exactly as a licence's document seal covers every
byte of the file (``licences.seal``): the department vouches that the applicant, so signed in,
confirmed it.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session

from tongban.applications import disclosure
from tongban.applications.documents import _font, _wrap
from tongban.applications.models import Application
from tongban.catalog.models import Department
from tongban.kit.canonical import canonical
from tongban.kit.clock import local_date, utcnow
from tongban.licences import keys, seal
from tongban.licences.pdf import _Info
from tongban.security.crypto import get_suite

VERSION = "tongban-material-v1"
ASSURANCE_NAMES = {
    "tongban:loa:1": "一级（密码登录）",
    "tongban:loa:2": "二级（密码加动态口令登录）",
}
GENERATED_TITLES = {
    "application_form": "申请书",
    "declaration": "声明书",
    "commitment": "告知承诺书",
}
PROMISE = (
    "本人承诺：以上填报内容真实、准确、完整，如有虚假，愿承担相应法律责任。"
    "本文件由平台根据本人网上填报内容生成，本人已核对，并以本次登录的身份认证代为签署。"
)


@dataclass(frozen=True)
class Signer:
    """Who the document is signed for, as their sign-in vouches."""

    name: str
    id_number: str
    acr: str


def masked_id(id_number: str) -> str:
    """The ID number with its middle hidden, as a document for others to read shows it."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def form_rows(application: Application, values: dict[str, Any]) -> list[tuple[str, str]]:
    """The filled form (``values``, as disclosed to the applicant) as label and shown value,
    in the form's order."""
    rows = []
    for spec in disclosure.case_fields(application):
        value = values.get(spec.name)
        if value in (None, ""):
            continue
        if spec.options:
            value = next((o.label_zh for o in spec.options if o.value == value), value)
        if spec.type == "id_number":
            value = masked_id(str(value))
        if spec.type == "checkbox":
            value = "是" if value else "否"
        rows.append((spec.label_zh, str(value)))
    return rows


def generated_pdf(
    session: Session,
    application: Application,
    department: Department,
    *,
    material_code: str,
    material_name: str,
    kind: str,
    values: dict[str, Any],
    signer: Signer,
) -> bytes:
    """The application form, declaration or commitment letter, from the form as saved."""
    items = "、".join(i.name_zh for i in application.items)
    heading = material_name or f"{items}{GENERATED_TITLES.get(kind, '申请书')}"
    return signed(
        session,
        application,
        department,
        material_code=material_code,
        kind=f"generated:{kind}",
        title=heading,
        lead=[f"事项：{items}", f"申请编号：{application.number}"],
        rows=form_rows(application, values),
        closing=[PROMISE],
        signer=signer,
    )


def identity_pdf(
    session: Session,
    application: Application,
    department: Department,
    *,
    material_code: str,
    material_name: str,
    signer: Signer,
) -> bytes:
    """The record of the verified identity that stands in for a copy of the ID card."""
    return signed(
        session,
        application,
        department,
        material_code=material_code,
        kind="identity",
        title="身份核验记录",
        lead=[f"代替材料：{material_name}", f"申请编号：{application.number}"],
        rows=[
            ("姓名", signer.name),
            ("公民身份号码", masked_id(signer.id_number)),
            ("认证级别", ASSURANCE_NAMES.get(signer.acr, signer.acr)),
            ("核验方式", "统一身份认证平台实名登录"),
        ],
        closing=["申请人的身份已由统一身份认证平台核验，免于提交居民身份证复印件。"],
        signer=signer,
    )


def fetched_pdf(
    session: Session,
    application: Application,
    department: Department,
    *,
    material_code: str,
    material_name: str,
    source: str,
    rows: list[tuple[str, str]],
    signer: Signer,
) -> bytes:
    """The record fetched through the exchange that stands in for the material."""
    return signed(
        session,
        application,
        department,
        material_code=material_code,
        kind="data",
        title="数据共享调取记录",
        lead=[f"代替材料：{material_name}", f"申请编号：{application.number}", f"来源：{source}"],
        rows=rows,
        closing=["以上数据经数据共享交换平台按共享授权从权威来源部门调取，调取已记录并审计。"],
        signer=signer,
    )


def signed(
    session: Session,
    application: Application,
    department: Department,
    *,
    material_code: str,
    kind: str,
    title: str,
    lead: list[str],
    rows: list[tuple[str, str]],
    closing: list[str],
    signer: Signer,
) -> bytes:
    """Render the document with its statement and seal it with the department's key."""
    statement: dict[str, Any] = {
        "v": VERSION,
        "application": application.number,
        "material": material_code,
        "kind": kind,
        "signer": {"name": signer.name, "id_number": masked_id(signer.id_number)},
        "acr": signer.acr,
        "at": utcnow().isoformat(timespec="seconds"),
        # What the page says, by its hash: the seal covers the file, this ties the words to it.
        "content": hashlib.sha256(canonical({"lead": lead, "rows": rows}).encode()).hexdigest(),
        "department": department.code,
    }
    key = keys.current(session, department)
    private = keys.private_key(key)
    statement["key_id"] = key.key_id
    text = canonical(statement)
    signature = seal.sign_payload(key.suite, private, text)
    info = {
        "TongbanStatement": seal.b64(text.encode()),
        "TongbanSignature": seal.b64(signature),
        "TongbanSeal": seal.SEAL_PLACEHOLDER,
    }
    rendered = _render(title, lead, rows, closing, signer, department, info)
    signer_suite = get_suite(key.suite)
    return seal.seal_pdf(rendered, lambda data: signer_suite.sign(private, data))


def _render(
    title: str,
    lead: list[str],
    rows: list[tuple[str, str]],
    closing: list[str],
    signer: Signer,
    department: Department,
    info: dict[str, str],
) -> bytes:
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    pdf._doc.info = _Info(info)
    pdf.setTitle(title)
    pdf.setAuthor(department.name_zh)
    width, height = A4
    left, right = 25 * mm, width - 25 * mm
    y = height - 30 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, title)
    y -= 12 * mm
    pdf.setFont(font, 10)
    for line in lead:
        pdf.drawString(left, y, line)
        y -= 6 * mm
    y -= 4 * mm
    label_width = 45 * mm
    pdf.setFont(font, 11)
    for label, value in rows:
        pdf.drawString(left, y, label)
        for line in _wrap(value or "—", font, 11, right - left - label_width):
            pdf.drawString(left + label_width, y, line)
            y -= 7 * mm
        if y < 60 * mm:
            pdf.showPage()
            pdf.setFont(font, 11)
            y = height - 30 * mm
    y -= 6 * mm
    pdf.setFont(font, 10)
    for paragraph in closing:
        for line in _wrap(paragraph, font, 10, right - left):
            pdf.drawString(left, y, line)
            y -= 6 * mm
    y -= 8 * mm
    level = ASSURANCE_NAMES.get(signer.acr, signer.acr)
    pdf.drawRightString(right, y, f"申请人：{signer.name}（电子签名，认证级别{level}）")
    y -= 6 * mm
    pdf.drawRightString(right, y, f"{department.name_zh} 代签验证 · {local_date(utcnow())}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
