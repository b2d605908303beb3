"""An electronic licence in a real browser: a case approved through the services yields a signed
licence; its holder finds it in 我的证照, downloads the data file and opens the QR code's
verification page (valid); the department revokes it and the same page says revoked (the status
check failed); a copy of the file with one byte changed, uploaded by anyone, fails integrity.
Screenshots of each stage are kept in artifacts/e2e/licences-*.png."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from onewindow.licences import services
from onewindow.licences.models import Licence
from tests.e2e.browser import artifacts_dir, login_as_role, off_the_loop
from tests.licences.conftest import (  # noqa: F401
    approver,
    basic,
    delivered_case,
    filed_case,
    holder,
    item,
    licence_type,
    publish,
    reviewer,
    world,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "licence-holder-2026"


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / f"licences-{name}.png"), full_page=True)


@pytest.fixture
def approved_licence(world, holder, licence_type, delivered_case) -> Licence:
    def make() -> Licence:
        holder.set_password(PASSWORD)
        holder.save(update_fields=["password"])
        case = delivered_case()
        return Licence.objects.get(case_number=case.number)

    return off_the_loop(make)


def test_a_licence_from_an_approved_case_verified_revoked_and_tampered(
    page,
    browser,
    asgi_live_server,
    approved_licence,
    world,
    holder,
    tmp_path,
    console_errors,
):
    base = asgi_live_server.url
    login_as_role(page, base, {"username": holder.username, "password": PASSWORD})
    page.goto(f"{base}/licences/mine/")
    expect(page.get_by_role("link", name="户外广告设置许可证")).to_be_visible()
    expect(page.get_by_text(approved_licence.number)).to_be_visible()
    shot(page, "directory")
    page.get_by_role("link", name="户外广告设置许可证").click()
    expect(page.get_by_role("heading", name="户外广告设置许可证")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载签名数据文件").click()
    data_file = tmp_path / "licence.json"
    download.value.save_as(data_file)
    with page.expect_download() as pdf:
        page.get_by_role("link", name="下载PDF（含电子印章和核验二维码）").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    shot(page, "detail")

    # The QR code's target, opened by anyone.
    verifier = browser.new_context(locale="zh-CN").new_page()
    verifier.goto(f"{base}/licences/verify/{approved_licence.number}/")
    expect(verifier.locator(".licence-verdict")).to_have_attribute(
        "data-verdict", "valid"
    )
    expect(verifier.locator("tr[data-check=integrity]")).to_have_attribute(
        "data-result", "valid"
    )
    shot(verifier, "valid")

    off_the_loop(
        lambda: services.licence_revoke(
            actor=world.editor, licence=approved_licence, reason="擅自变更设置内容"
        )
    )
    verifier.reload()
    expect(verifier.locator(".licence-verdict")).to_have_attribute(
        "data-verdict", "invalid"
    )
    expect(verifier.locator("tr[data-check=status]")).to_have_attribute(
        "data-result", "invalid"
    )
    expect(verifier.locator("tr[data-check=status]")).to_contain_text("已吊销")
    expect(verifier.locator("tr[data-check=integrity]")).to_have_attribute(
        "data-result", "valid"
    )
    shot(verifier, "revoked")

    raw = bytearray(data_file.read_bytes())
    raw[raw.index("中华南路".encode())] ^= 0x01
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(bytes(raw))
    verifier.goto(f"{base}/licences/verify/")
    verifier.set_input_files("input[type=file]", str(tampered))
    verifier.get_by_role("button", name="上传核验").click()
    expect(verifier.locator(".licence-verdict")).to_have_attribute(
        "data-verdict", "invalid"
    )
    expect(verifier.locator("tr[data-check=integrity]")).to_have_attribute(
        "data-result", "invalid"
    )
    shot(verifier, "tampered")
    verifier.context.close()
    assert console_errors == []
