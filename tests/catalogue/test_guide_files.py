"""A guide's files (each material's blank form and sample, the result sample): uploaded in the
workbench editor, read by the item's editors and reviewers while a draft, downloaded by anyone
once a version naming them is published, and kept by the orphan sweep while named."""

import os
import re
import secrets
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from onewindow.catalogue import services
from onewindow.core import files
from onewindow.core.models import AuditEntry, StoredFile
from tests.core.test_files import files_on_disk, pdf_bytes, png_bytes

from .conftest import STANDARD, edit_url, editor_data, page_text, save


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    return settings.MEDIA_ROOT


@pytest.fixture
def draft(world, basic):
    return services.item_create(actor=world.editor, basic_item=basic, department=world.market)


@pytest.fixture
def editor(client_as, world):
    return client_as(world.editor)


def upload(name, content=None):
    # The browser's content type is the uploader's to choose; only the bytes are trusted.
    return SimpleUploadedFile(name, pdf_bytes() if content is None else content, content_type="application/pdf")


def save_with(client, version, **changes):
    """Save the editor as it is shown, with `changes` (fields and files) on top."""
    return save(client, version, {**editor_data(client, version), **changes})


def save_for_publication(client, version, **changes):
    """`save_with`, giving the reason submission asks for: a file makes the materials differ from
    the basic item's standard."""
    response = save_with(client, version, difference_materials=["附本地空白表格和示例样表"], **changes)
    assert response.status_code == 302
    return response


def blank_form_of(version, index=0):
    version.refresh_from_db()
    return version.content["materials"][index]["blank_form"]


def public_url(version, token):
    return reverse("catalogue:guide_file", args=[version.item.impl_code, token])


def stored_url(token):
    return reverse("core:file_download", args=[token])


def field_block(text, name):
    """The editor's block for the file input `name`: its label, input, errors and current file."""
    start = text.index(f'name="{name}"')
    opening = text.rfind('<div class="cw-field cw-field--file', 0, start)
    following = text.find('<div class="cw-field', start)
    return text[opening : following if following > 0 else None]


def age(paths):
    old = time.time() - files.ORPHAN_AGE_SECONDS - 60
    for path in paths:
        os.utime(path, (old, old))


# --- uploading in the editor --------------------------------------------------------------------


def test_files_uploaded_in_the_editor_land_in_the_draft(client, client_as, world, draft, editor, media):
    response = save_with(editor, draft, **{
        "materials-0-blank_form_file": upload("户外广告设置申请表.pdf"),
        "materials-0-sample_file": upload("申请表填写示例.png", png_bytes()),
        "result_sample_file": upload("许可决定书样本.pdf"),
    })
    assert response.status_code == 302
    draft.refresh_from_db()
    stored = {found.original_name: found for found in StoredFile.objects.all()}
    assert set(stored) == {"户外广告设置申请表.pdf", "申请表填写示例.png", "许可决定书样本.pdf"}
    assert all(found.purpose == "catalogue_guide" and found.owner == world.editor for found in stored.values())
    first, second = draft.content["materials"]
    assert first["blank_form"] == stored["户外广告设置申请表.pdf"].token
    assert first["sample"] == stored["申请表填写示例.png"].token
    assert draft.content["result_sample"] == stored["许可决定书样本.pdf"].token
    assert second["blank_form"] == second["sample"] == ""

    # The editor (a multipart form) shows each file by name, with its download link and a box to remove it.
    text = page_text(editor.get(edit_url(draft)))
    assert 'enctype="multipart/form-data"' in text
    for name, found in stored.items():
        assert name in text and f'href="{stored_url(found.token)}"' in text
    for box in ("materials-0-blank_form_remove", "materials-0-sample_remove", "result_sample_remove"):
        assert f'name="{box}"' in text
    assert 'name="materials-1-blank_form_remove"' not in text  # no file, nothing to remove
    assert "删除" in field_block(text, "materials-0-blank_form_file")

    # While a draft, the item's editors and legal reviewers read the files; nobody else does.
    token = first["blank_form"]
    for user, status in ((world.editor, 200), (world.legal, 200), (world.admin, 200),
                         (world.outsider, 404), (world.clerk, 404), (world.citizen, 404)):
        assert client_as(user).get(stored_url(token)).status_code == status, user.username
    assert client.get(public_url(draft, token)).status_code == 404


def test_a_second_editor_of_the_department_reads_the_first_ones_upload(client_as, world, draft, editor, media,
                                                                        make_user):
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment

    save_with(editor, draft, **{"materials-0-blank_form_file": upload("申请表.pdf")})
    colleague = make_user("colleague", kind=AccountKind.STAFF, otp=True, real_name="同事")
    RoleAssignment.objects.create(user=colleague, role=Role.DEPARTMENT_ADMIN, department=world.market)
    client = client_as(colleague)
    token = blank_form_of(draft)
    assert client.get(stored_url(token)).status_code == 200
    assert f'href="{stored_url(token)}"' in page_text(client.get(edit_url(draft)))
    # A file of this purpose that no version names is still only its uploader's.
    loose = files.store_upload(actor=world.editor, uploaded_file=upload("草稿.pdf"), purpose="catalogue_guide")
    assert client.get(stored_url(loose.token)).status_code == 404


def test_the_remove_box_clears_the_file(world, draft, editor, media):
    save_with(editor, draft, **{
        "materials-0-blank_form_file": upload("申请表.pdf"),
        "materials-0-sample_file": upload("示例.pdf"),
        "result_sample_file": upload("样本.pdf"),
    })
    draft.refresh_from_db()
    sample = draft.content["materials"][0]["sample"]
    response = save_with(editor, draft, **{"materials-0-blank_form_remove": "on", "result_sample_remove": "on"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.content["materials"][0]["blank_form"] == "" and draft.content["result_sample"] == ""
    assert draft.content["materials"][0]["sample"] == sample
    # A new file replaces the current one.
    assert save_with(editor, draft, **{"materials-0-sample_file": upload("新示例.pdf")}).status_code == 302
    draft.refresh_from_db()
    assert draft.content["materials"][0]["sample"] == StoredFile.objects.get(original_name="新示例.pdf").token


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("申请表.txt", b"a plain text file", "不支持“.txt”类型的文件"),
        ("申请表.pdf", b"GIF89a not a pdf at all", "文件内容与扩展名不符"),
        ("申请表.docm", b"PK\x03\x04", "不支持“.docm”类型的文件"),
    ],
    ids=["text", "disguised", "macro-document"],
)
def test_a_refused_file_is_shown_beside_its_input_and_nothing_is_saved(world, draft, editor, media, name, content,
                                                                       message):
    before = (draft.content, draft.content_sha256)
    response = save_with(editor, draft, notes=["新的注意事项"], **{
        "materials-0-sample_file": upload(name, content),
        "result_sample_file": upload("样本.pdf"),  # acceptable, but not kept without the rest
    })
    assert response.status_code == 400
    text = page_text(response)
    block = field_block(text, "materials-0-sample_file")
    assert "cw-field--invalid" in block and message in block
    assert message not in field_block(text, "result_sample_file")
    assert "未保存" in text and "本次选择的文件尚未保存" in text
    draft.refresh_from_db()
    assert (draft.content, draft.content_sha256) == before
    assert not StoredFile.objects.exists()


def test_a_file_over_the_size_limit_is_refused(settings, draft, editor, media):
    settings.UPLOAD_MAX_BYTES = 200
    response = save_with(editor, draft, **{"result_sample_file": upload("样本.pdf")})
    assert response.status_code == 400
    assert "文件超过大小上限" in field_block(page_text(response), "result_sample_file")
    assert not StoredFile.objects.exists()


def test_a_refused_save_keeps_neither_the_change_nor_the_upload(draft, editor, media):
    before = (draft.content, draft.content_sha256)
    response = save_with(editor, draft, promised_limit_amount=["25"],
                         **{"materials-0-blank_form_file": upload("申请表.pdf")})
    assert response.status_code == 400
    text = page_text(response)
    assert "承诺办结时限（25）不能超过法定办结时限（20）。" in text and "本次选择的文件尚未保存" in text
    draft.refresh_from_db()
    assert (draft.content, draft.content_sha256) == before
    assert not StoredFile.objects.exists() and not AuditEntry.objects.filter(action="file.upload").exists()
    # The bytes were written before the refusal; without their row the orphan sweep removes them.
    left = files_on_disk(media)
    assert len(left) == 1
    age(left)
    assert files.remove_orphans() == 1 and files_on_disk(media) == []


def test_a_posted_token_the_draft_does_not_hold_is_refused(world, draft, editor, media):
    other = files.store_upload(actor=world.outsider, uploaded_file=upload("别人的.pdf"), purpose="catalogue_guide")
    before = draft.content_sha256
    response = save_with(editor, draft, **{"materials-0-blank_form": [other.token]})
    assert response.status_code == 400 and "文件引用无效" in page_text(response)
    draft.refresh_from_db()
    assert draft.content_sha256 == before


def test_a_file_named_by_a_draft_survives_the_orphan_sweep(draft, editor, media):
    save_with(editor, draft, **{"materials-0-blank_form_file": upload("申请表.pdf")})
    stored = StoredFile.objects.get(token=blank_form_of(draft))
    age(files_on_disk(media))
    assert files.remove_orphans() == 0
    assert files.path_of(stored).read_bytes() == pdf_bytes()
    assert editor.get(stored_url(stored.token)).status_code == 200


# --- public downloads -----------------------------------------------------------------------------


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response, b"".join(response.streaming_content)


def test_the_public_downloads_a_file_once_a_version_naming_it_is_published(client, world, draft, editor, media,
                                                                           publish):
    save_for_publication(editor, draft, **{"materials-0-blank_form_file": upload("户外广告设置申请表.pdf")})
    first = blank_form_of(draft)
    url = public_url(draft, first)
    assert client.get(url).status_code == 404  # a draft's file, even to its editor
    assert editor.get(url).status_code == 404

    publish(draft)
    response, body = download(client, url)
    assert body == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == files.content_disposition("户外广告设置申请表.pdf")
    assert response["Content-Disposition"].startswith("attachment; ")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # The guide links there, not to the signed-in download.
    page = page_text(client.get(reverse("catalogue:item", args=[draft.item.impl_code])))
    assert f'href="{url}"' in page and f'href="{stored_url(first)}"' not in page

    # A change replaces the file: the new one waits for publication, the published one stays.
    change = services.version_new_draft(actor=world.editor, item=draft.item, change_note="更新申请表")
    save_for_publication(editor, change, **{"materials-0-blank_form_file": upload("申请表（新版）.pdf")})
    second = blank_form_of(change)
    assert second != first
    assert client.get(public_url(change, second)).status_code == 404
    download(client, url)
    publish(change, note="更新申请表")
    download(client, public_url(change, second))
    # The superseded version still names the first file: its page and its download remain.
    page = page_text(client.get(reverse("catalogue:version", args=[draft.item.impl_code, draft.number])))
    assert f'href="{url}"' in page
    download(client, url)


def test_the_result_sample_is_linked_and_downloaded(client, draft, editor, media, publish):
    assert save_with(editor, draft, **{"result_sample_file": upload("许可决定书样本.pdf")}).status_code == 302
    draft.refresh_from_db()
    url = public_url(draft, draft.content["result_sample"])
    publish(draft)
    page = page_text(client.get(reverse("catalogue:item", args=[draft.item.impl_code])))
    assert re.search(rf'href="{re.escape(url)}"[^>]*>下载</a>', page)
    download(client, url)


def test_only_files_the_items_published_guides_name_are_served(client, world, basic, draft, editor, media, publish):
    other_basic = services.basic_item_create(
        actor=world.admin, basic_code="XK00128000", standard={**STANDARD, "name": "临时占用道路许可"}
    )
    other = services.item_create(actor=world.editor, basic_item=other_basic, department=world.market)
    save_for_publication(editor, draft, **{"materials-0-blank_form_file": upload("广告申请表.pdf")})
    save_for_publication(editor, other, **{"materials-0-blank_form_file": upload("占道申请表.pdf")})
    ours, theirs = blank_form_of(draft), blank_form_of(other)
    publish(draft)
    publish(other)
    download(client, public_url(draft, ours))
    download(client, public_url(other, theirs))

    loose = files.store_upload(actor=world.editor, uploaded_file=upload("未引用.pdf"), purpose="catalogue_guide")
    for token in (theirs, secrets.token_urlsafe(32), loose.token, "short", ours.lower()):
        assert client.get(public_url(draft, token)).status_code == 404, token
    assert client.get(reverse("catalogue:guide_file", args=["NOSUCHITEM1", ours])).status_code == 404

    # A file kept for another purpose is not served even when a published guide names it.
    private = files.store_upload(actor=world.citizen, uploaded_file=upload("身份证.pdf"), purpose="case.material")
    change = services.version_new_draft(actor=world.editor, item=draft.item)
    content = change.content
    content["materials"][1]["sample"] = private.token
    services.version_update(actor=world.editor, version=change, content=content)
    publish(change, note="补充示例")
    assert client.get(public_url(draft, private.token)).status_code == 404
    download(client, public_url(draft, ours))
