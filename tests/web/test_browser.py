"""The portal in a real headless Chromium: what a citizen and an official see and do.

Every test opens its own browser context (its own cookies), so they are independent; the journey
uses two contexts at once, as an applicant and an official at two computers would.
"""

from __future__ import annotations

import io
import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import FilePayload, Locator, Page, expect
from pypdf import PdfReader

from tests.applications.helpers import submitted_application
from tests.conftest import PASSWORD, sign_in
from tests.fixtures.files import pdf_bytes
from tests.notifications.conftest import Deliver, Recorders, deliver, recorders, sms_code_to
from tests.web.conftest import NewPage, TotpCode
from tongban.identity.models import Account
from tongban.identity.numbers import resident_id_check_character
from tongban.kit import ids

__all__ = ["deliver", "recorders"]

ITEM = "SAMR-0001"
ITEM_NAME = "个体工商户设立登记"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A blank page at 1280 px is about 3 KB as PNG; a page with text and layout is far larger.
MIN_SCREENSHOT_BYTES = 5 * 1024


# --- helpers ---------------------------------------------------------------------------------


def resident_id() -> str:
    """A well-formed resident ID number, random enough that reruns never collide."""
    born = date(1960, 1, 1) + timedelta(days=secrets.randbelow(365 * 40))
    first17 = f"330102{born:%Y%m%d}{secrets.randbelow(1000):03d}"
    return first17 + resident_id_check_character(first17)


def with_wrong_check_character(number: str) -> str:
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def valid_form() -> dict[str, str]:
    """Every field of SAMR-0001, filled validly (input name without the f_ prefix -> value)."""
    return {
        "business_name": "张记便利店",
        "operator_name": "张晓明",
        "operator_id_number": resident_id(),
        "operator_phone": "13800138000",
        "premises_address": "临江市滨江区江滨路88号1层",
        "composition": "individual",
        "business_category": "retail",
        "capital_amount": "50000",
    }


def fill_form(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"#f_{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def form_field_names(page: Page) -> set[str]:
    names: list[str] = page.eval_on_selector_all(
        "#application-form [name^=f_]", "els => els.map(e => e.name.slice(2))"
    )
    return set(names)


def upload(
    page: Page, code: str, *, name: str, content: bytes, mime: str = "application/pdf"
) -> None:
    form = page.locator(f".material[data-code='{code}'] form.upload")
    payload: FilePayload = {"name": name, "mimeType": mime, "buffer": content}
    form.locator("input[name=file]").set_input_files(files=payload)
    with page.expect_navigation():
        form.get_by_role("button", name="上传").click()


def required_materials(page: Page) -> list[str]:
    codes: list[str] = page.eval_on_selector_all(
        "#materials .material:has(h3 .req)", "els => els.map(e => e.dataset.code)"
    )
    return codes


def register(
    page: Page, deliver: Deliver, recorders: Recorders, *, display_name: str = "王小红"
) -> str:
    """Open an applicant account through /register (details, then the code sent to the phone
    with a username and password); returns the username (signed in)."""
    username = f"web_{secrets.token_hex(5)}"
    phone = f"139{secrets.randbelow(10**8):08d}"
    page.goto("/register")
    page.get_by_label("姓名").fill(display_name)
    page.get_by_label("居民身份证号码").fill(resident_id())
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="发送验证码").click()
    expect(page.get_by_test_id("sent")).to_be_visible()
    deliver()
    page.get_by_label("短信验证码").fill(sms_code_to(recorders, phone))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码（至少10个字符）").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()
    expect(page).to_have_url(re.compile(r"/applications$"))
    expect(page.get_by_test_id("who")).to_have_text(display_name)
    return username


def log_in(page: Page, username: str, password: str = PASSWORD, code: str | None = None) -> None:
    """Sign in; officials (``code`` given) then enter their authenticator code."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    if code is not None:
        expect(page).to_have_url(re.compile(r"/login/code"))
        page.get_by_label("身份验证器应用中的验证码").fill(code)
        page.get_by_role("button", name="确认").click()


def start_application(page: Page, username: str) -> str:
    """Sign in, open the guide, click 在线申请; returns the new draft's number."""
    log_in(page, username)
    expect(page.get_by_test_id("who")).to_be_visible()
    page.goto(f"/items/{ITEM}")
    page.get_by_role("button", name="在线申请").click()
    expect(page).to_have_url(re.compile(r"/applications/TB\w+/edit$"))
    return page.get_by_test_id("number").inner_text()


def screenshot(page: Page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_real_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
    assert len(data) > MIN_SCREENSHOT_BYTES, f"{path} is only {len(data)} bytes: a blank page?"


def assert_fits_phone(page: Page) -> None:
    sizes: dict[str, int] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert sizes["scroll"] <= sizes["inner"], f"the page scrolls sideways: {sizes}"


def assert_on_screen_horizontally(page: Page, locator: Locator) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box is not None
    width = page.evaluate("() => window.innerWidth")
    assert box["x"] >= 0, f"cut off on the left: {box}"
    assert box["x"] + box["width"] <= width, f"cut off on the right: {box}"
    # Large enough to hit with a thumb.
    assert box["height"] >= 40, f"too small to tap: {box}"


# --- 1. the whole journey --------------------------------------------------------------------


class TestApplicantJourney:
    @pytest.mark.browser
    def test_new_applicant_applies_and_official_completes_the_case(
        self,
        new_page: NewPage,
        artifacts: Path,
        totp_code: TotpCode,
        deliver: Deliver,
        recorders: Recorders,
    ) -> None:
        applicant = new_page()
        register(applicant, deliver, recorders)

        # Find the service from the home page.
        applicant.goto("/")
        applicant.get_by_label("搜索事项").fill("个体工商户")
        applicant.get_by_role("button", name="搜索").click()
        expect(applicant).to_have_url(re.compile(r"/items\?q="))
        result = applicant.get_by_role("link", name=ITEM_NAME)
        expect(result).to_be_visible()
        shot = screenshot(applicant, artifacts, "01-search-results")
        result.click()

        # The guide.
        expect(applicant.get_by_role("heading", level=1)).to_have_text(ITEM_NAME)
        expect(applicant.get_by_text("营业执照（纸质及电子营业执照）").first).to_be_visible()
        guide_shot = screenshot(applicant, artifacts, "02-guide")
        applicant.get_by_role("button", name="在线申请").click()

        # The form: fill every field, then upload every required material.
        expect(applicant).to_have_url(re.compile(r"/applications/TB\w+/edit$"))
        number = applicant.get_by_test_id("number").inner_text()
        values = valid_form()
        assert form_field_names(applicant) == set(values), "the test must fill every field"
        fill_form(applicant, values)
        materials = required_materials(applicant)
        assert materials == ["application_form", "id_card", "premises_proof"]
        # The application form is generated from the form on submission: nothing to upload.
        expect(applicant.get_by_test_id("source-application_form")).to_have_attribute(
            "data-source", "generated"
        )
        for code in ("id_card", "premises_proof"):
            upload(applicant, code, name=f"{code}.pdf", content=pdf_bytes(code))
            expect(applicant.locator(f".material[data-code='{code}'] .files")).to_contain_text(
                f"{code}.pdf"
            )
        # Uploading did not lose what was typed before it.
        for name, value in values.items():
            expect(applicant.locator(f"#f_{name}")).to_have_value(value)
        form_shot = screenshot(applicant, artifacts, "03-form-filled")
        applicant.get_by_role("button", name="提交申请").click()

        # Submitted: the number and the status.
        expect(applicant).to_have_url(re.compile(rf"/applications/{number}\?submitted=1$"))
        expect(applicant.get_by_test_id("submitted")).to_contain_text(number)
        expect(applicant.get_by_test_id("status")).to_have_text("已提交")
        submitted_shot = screenshot(applicant, artifacts, "04-submitted")
        applicant.get_by_role("link", name="打印回执").click()
        expect(applicant.get_by_role("heading", name="申请回执")).to_be_visible()
        expect(applicant.get_by_test_id("number")).to_have_text(number)
        expect(applicant.locator(".receipt")).to_contain_text("市场监督管理局")
        receipt_shot = screenshot(applicant, artifacts, "05-receipt")

        # The official, at another computer.
        official = new_page()
        log_in(official, "samr_officer", code=totp_code("samr_officer"))
        expect(official).to_have_url(re.compile(r"/queue$"))
        row = official.get_by_test_id("queue-row").filter(has_text=number)
        expect(row).to_contain_text("已提交")
        queue_shot = screenshot(official, artifacts, "06-queue")
        row.get_by_role("link", name=number).click()
        expect(official.get_by_test_id("number")).to_have_text(number)
        expect(official.locator("dl.facts")).to_contain_text(values["operator_name"])
        # Each file is listed under the material it was uploaded for.
        files = official.locator("ul.files li")
        expect(files).to_have_count(3)
        expect(files.filter(has_text="id_card.pdf")).to_contain_text("经营者居民身份证")
        for button, status in (("受理", "已受理"), ("开始审查", "审查中"), ("批准", "已批准")):
            official.get_by_role("button", name=button, exact=True).click()
            expect(official.get_by_test_id("status")).to_have_text(status)
        official.get_by_label("结果说明（领取方式）").fill("营业执照已寄出，请注意查收")
        official.get_by_role("button", name="出具结果并办结").click()
        expect(official.get_by_test_id("status")).to_have_text("已办结")
        result_text = official.get_by_test_id("result").inner_text()
        match = re.search(r"结果文书 (\w+)", result_text)
        assert match, result_text
        result_number = match.group(1)
        assert result_number.startswith("SAMR")
        assert ids.is_valid(result_number)
        case_shot = screenshot(official, artifacts, "07-case-completed")

        # The applicant sees the outcome.
        applicant.goto(f"/applications/{number}")
        expect(applicant.get_by_test_id("status")).to_have_text("已办结")
        expect(applicant.get_by_test_id("result")).to_contain_text(result_number)
        expect(applicant.get_by_test_id("result")).to_contain_text("营业执照已寄出")
        done_shot = screenshot(applicant, artifacts, "08-completed")
        # The decision document opens with the applicant's own sign-in (cookie), as a real PDF.
        decision_link = applicant.get_by_test_id("decision")
        expect(decision_link).to_be_visible()
        href = decision_link.get_attribute("href")
        assert href is not None
        pdf = applicant.request.get(href)
        assert pdf.headers["content-type"] == "application/pdf"
        decision_text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
        assert result_number in decision_text
        assert "办结通知书" in decision_text

        for path in (
            shot,
            guide_shot,
            form_shot,
            submitted_shot,
            receipt_shot,
            queue_shot,
            case_shot,
            done_shot,
        ):
            assert_real_png(path)


# --- 2. bad input on the form ----------------------------------------------------------------


class TestApplicationFormErrors:
    @pytest.mark.browser
    def test_wrong_check_character_is_shown_at_the_id_field(
        self, page: Page, new_applicant: Account, artifacts: Path
    ) -> None:
        start_application(page, new_applicant.username)
        values = valid_form()
        values["operator_id_number"] = with_wrong_check_character(values["operator_id_number"])
        fill_form(page, values)
        page.get_by_role("button", name="保存草稿").click()

        field = page.locator(".field", has=page.locator("#f_operator_id_number"))
        expect(field).to_have_class(re.compile(r"\binvalid\b"))
        expect(field).to_contain_text("校验位")
        expect(page.locator("#f_operator_id_number")).to_have_attribute("aria-invalid", "true")
        # Nothing typed is lost, and what was typed is not listed as missing.
        for name, value in values.items():
            expect(page.locator(f"#f_{name}")).to_have_value(value)
        expect(page.get_by_test_id("missing")).not_to_contain_text("经营者姓名")
        expect(page.get_by_test_id("missing")).to_contain_text("经营者居民身份证")
        assert_real_png(screenshot(page, artifacts, "10-error-id-number"))

    @pytest.mark.browser
    def test_submitting_without_materials_lists_what_is_missing(
        self, page: Page, new_applicant: Account, artifacts: Path
    ) -> None:
        start_application(page, new_applicant.username)
        fill_form(page, valid_form())
        page.get_by_role("button", name="提交申请").click()

        alert = page.get_by_role("alert").first
        expect(alert).to_contain_text("尚未填写完整")
        for material in ("经营者居民身份证", "经营场所使用证明"):
            expect(alert).to_contain_text(material)
        expect(alert).not_to_contain_text("委托代理人证明")  # optional, so not missing
        # Generated from the form when submitting: never missing.
        expect(alert).not_to_contain_text("个体工商户登记（备案）申请书")
        expect(page.get_by_test_id("status")).to_have_count(0)
        assert_real_png(screenshot(page, artifacts, "11-error-incomplete"))

    @pytest.mark.browser
    def test_text_file_named_pdf_is_refused_at_its_material(
        self, page: Page, new_applicant: Account, artifacts: Path
    ) -> None:
        number = start_application(page, new_applicant.username)
        upload(page, "id_card", name="身份证.pdf", content=b"just some text, not a PDF\n")

        material = page.locator(".material[data-code='id_card']")
        expect(material).to_contain_text("文件类型不符合要求")
        expect(material.locator(".files")).not_to_contain_text("身份证.pdf")
        assert_real_png(screenshot(page, artifacts, "12-error-file-type"))

        # The page answers a form post; switching language returns to the form, not the post.
        page.get_by_role("link", name="English").click()
        expect(page).to_have_url(re.compile(rf"/applications/{number}/edit$"))
        expect(page.get_by_role("button", name="Submit application")).to_be_visible()


class TestApplicationFormKeepsInput:
    @pytest.mark.browser
    def test_typed_values_survive_removing_a_file(self, page: Page, new_applicant: Account) -> None:
        start_application(page, new_applicant.username)
        upload(page, "id_card", name="id.pdf", content=pdf_bytes())
        values = valid_form()
        fill_form(page, values)
        with page.expect_navigation():
            page.locator(".material[data-code='id_card']").get_by_role(
                "button", name="删除"
            ).click()
        expect(page.locator(".material[data-code='id_card'] .files li")).to_have_count(0)
        for name, value in values.items():
            expect(page.locator(f"#f_{name}")).to_have_value(value)

    @pytest.mark.browser
    def test_refused_values_carried_by_an_upload_are_shown_at_their_field(
        self, page: Page, new_applicant: Account
    ) -> None:
        start_application(page, new_applicant.username)
        values = valid_form()
        values["operator_phone"] = "12345"
        fill_form(page, values)
        upload(page, "id_card", name="id.pdf", content=pdf_bytes())

        # The file is kept; the typed values are too, with the problem at its field.
        expect(page.locator(".material[data-code='id_card'] .files")).to_contain_text("id.pdf")
        field = page.locator(".field", has=page.locator("#f_operator_phone"))
        expect(field).to_contain_text("联系电话")
        expect(field.locator(".field-error")).to_be_visible()
        for name, value in values.items():
            expect(page.locator(f"#f_{name}")).to_have_value(value)

    @pytest.mark.browser
    def test_values_refused_on_saving_survive_a_following_upload(
        self, page: Page, new_applicant: Account
    ) -> None:
        start_application(page, new_applicant.username)
        values = valid_form()
        values["operator_id_number"] = with_wrong_check_character(values["operator_id_number"])
        fill_form(page, values)
        page.get_by_role("button", name="保存草稿").click()
        expect(page.get_by_role("alert")).to_contain_text("校验位")

        # Nothing retyped: the refused values on the page are still what must not be lost.
        upload(page, "id_card", name="id.pdf", content=pdf_bytes())
        expect(page.locator(".material[data-code='id_card'] .files")).to_contain_text("id.pdf")
        for name, value in values.items():
            expect(page.locator(f"#f_{name}")).to_have_value(value)
        expect(page.locator(".field", has=page.locator("#f_operator_id_number"))).to_contain_text(
            "校验位"
        )


# --- 3. phone width --------------------------------------------------------------------------


class TestPhoneWidth:
    @pytest.mark.browser
    def test_home_page_fits_and_search_is_usable(self, new_page: NewPage, artifacts: Path) -> None:
        phone = new_page(width=390, height=844)
        phone.goto("/")
        assert_fits_phone(phone)
        assert_on_screen_horizontally(phone, phone.get_by_label("搜索事项"))
        assert_on_screen_horizontally(phone, phone.get_by_role("button", name="搜索"))
        assert_real_png(screenshot(phone, artifacts, "20-phone-home"))

    @pytest.mark.browser
    def test_guide_page_fits_and_apply_button_is_usable(
        self, new_page: NewPage, new_applicant: Account, artifacts: Path
    ) -> None:
        phone = new_page(width=390, height=844)
        log_in(phone, new_applicant.username)
        phone.goto(f"/items/{ITEM}")
        assert_fits_phone(phone)
        assert_on_screen_horizontally(phone, phone.get_by_role("button", name="在线申请"))
        assert_real_png(screenshot(phone, artifacts, "21-phone-guide"))

    @pytest.mark.browser
    def test_application_form_fits_and_its_buttons_are_usable(
        self, new_page: NewPage, new_applicant: Account, artifacts: Path
    ) -> None:
        phone = new_page(width=390, height=844)
        start_application(phone, new_applicant.username)
        fill_form(phone, valid_form())
        assert_fits_phone(phone)
        for name in ("保存草稿", "提交申请"):
            assert_on_screen_horizontally(phone, phone.get_by_role("button", name=name))
        assert_on_screen_horizontally(phone, phone.get_by_role("button", name="上传").first)
        # The error state too: longer messages must wrap, not widen the page.
        phone.get_by_role("button", name="提交申请").click()
        expect(phone.get_by_role("alert").first).to_contain_text("尚未填写完整")
        assert_fits_phone(phone)
        assert_real_png(screenshot(phone, artifacts, "22-phone-form"))

    @pytest.mark.browser
    def test_work_queue_fits(
        self,
        new_page: NewPage,
        client: TestClient,
        applicant_headers: dict[str, str],
        artifacts: Path,
        totp_code: TotpCode,
    ) -> None:
        number = submitted_application(client, applicant_headers)
        phone = new_page(width=390, height=844)
        log_in(phone, "samr_officer", code=totp_code("samr_officer"))
        row = phone.get_by_test_id("queue-row").filter(has_text=number)
        expect(row).to_contain_text("已提交")
        assert_fits_phone(phone)
        assert_real_png(screenshot(phone, artifacts, "23-phone-queue"))


# --- 4. language -----------------------------------------------------------------------------


class TestLanguageSwitch:
    @pytest.mark.browser
    def test_english_and_back_to_chinese(
        self, page: Page, new_applicant: Account, artifacts: Path
    ) -> None:
        log_in(page, new_applicant.username)
        page.goto(f"/items/{ITEM}")
        expect(page.get_by_role("button", name="在线申请")).to_be_visible()

        page.get_by_role("link", name="English").click()
        expect(page).to_have_url(re.compile(rf"/items/{ITEM}$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Registration of an individual business"
        )
        expect(page.get_by_role("button", name="Apply online")).to_be_visible()
        expect(page.get_by_role("link", name="My applications")).to_be_visible()
        promised = page.locator("dl.facts dd").first
        expect(promised).to_have_text("1 working day")
        assert_real_png(screenshot(page, artifacts, "30-guide-english"))

        page.get_by_role("link", name="中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", level=1)).to_have_text(ITEM_NAME)
        expect(page.get_by_role("button", name="在线申请")).to_be_visible()

    @pytest.mark.browser
    def test_switching_keeps_the_search(self, page: Page) -> None:
        page.goto("/")
        page.get_by_label("搜索事项").fill("个体工商户")
        page.get_by_role("button", name="搜索").click()
        page.get_by_role("link", name="English").click()
        expect(page.get_by_label("Search services")).to_have_value("个体工商户")
        expect(
            page.get_by_role("link", name="Registration of an individual business")
        ).to_be_visible()

    @pytest.mark.browser
    def test_english_stays_while_browsing(self, page: Page) -> None:
        page.goto("/lang/en?next=/")
        expect(page.get_by_role("button", name="Search")).to_be_visible()
        page.goto("/login")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


# --- 5. another department's case ------------------------------------------------------------


class TestOtherDepartmentsCase:
    @pytest.mark.browser
    def test_tax_official_gets_not_found_and_no_queue_entry(
        self,
        page: Page,
        client: TestClient,
        applicant_headers: dict[str, str],
        artifacts: Path,
        totp_code: TotpCode,
    ) -> None:
        number = submitted_application(client, applicant_headers)
        log_in(page, "tax_officer", code=totp_code("tax_officer"))
        expect(page).to_have_url(re.compile(r"/queue$"))
        expect(page.get_by_role("heading", name="待办事项")).to_be_visible()
        expect(page.locator("table.queue")).not_to_contain_text(number)

        response = page.goto(f"/queue/{number}")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_test_id("error")).to_contain_text(number)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        # Still shown as signed in, with the way back to the queue.
        expect(page.get_by_role("link", name="待办事项")).to_be_visible()
        assert_real_png(screenshot(page, artifacts, "40-other-department-404"))

        # The case is real: the handling department does see it.
        samr = sign_in(client, "samr_officer")
        assert client.get(f"/api/v1/applications/{number}", headers=samr).status_code == 200


# --- 6. sign-in ------------------------------------------------------------------------------


class TestSignIn:
    @pytest.mark.browser
    def test_wrong_password_shows_message_and_stays_on_login(
        self, page: Page, artifacts: Path
    ) -> None:
        log_in(page, "zhangsan", "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误。")
        expect(page).to_have_url(re.compile(r"/login$"))
        expect(page.get_by_label("用户名")).to_have_value("zhangsan")
        expect(page.get_by_test_id("who")).to_have_count(0)
        assert_real_png(screenshot(page, artifacts, "50-login-wrong-password"))
