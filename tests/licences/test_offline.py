"""The offline verifier command: a downloaded file, the published registry and status list."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from onewindow.licences import selectors, services


@pytest.fixture
def published(world, issue, tmp_path):
    """publish(licence) → paths of the licence's file, the registry and the status list."""

    def publish(licence):
        paths = {
            name: tmp_path / f"{name}.json" for name in ("licence", "issuers", "status")
        }
        paths["licence"].write_text(licence.current_version.document, encoding="utf-8")
        paths["issuers"].write_text(
            json.dumps(selectors.issuer_registry()), encoding="utf-8"
        )
        paths["status"].write_text(
            json.dumps(selectors.status_list_credential(world.market.uscc)),
            encoding="utf-8",
        )
        return paths

    return publish


def run(paths, *extra):
    out = io.StringIO()
    call_command(
        "licence_verify",
        str(paths["licence"]),
        "--issuers",
        str(paths["issuers"]),
        "--status-list",
        str(paths["status"]),
        *extra,
        stdout=out,
    )
    return out.getvalue()


def test_a_genuine_file_is_valid_offline(issue, published):
    output = run(published(issue()))
    assert "结论：有效" in output and output.count("[通过]") == 3


def test_a_revoked_licence_fails_offline_with_the_published_list(
    world, issue, published
):
    licence = issue()
    services.licence_revoke(actor=world.editor, licence=licence, reason="x")
    with pytest.raises(CommandError, match="状态") as failed:
        run(published(licence))
    assert failed.value.returncode == 1


def test_a_changed_byte_fails_integrity_offline(issue, published):
    paths = published(issue())
    raw = bytearray(paths["licence"].read_bytes())
    raw[raw.index(b'"value":"') + 9] ^= 1
    paths["licence"].write_bytes(bytes(raw))
    with pytest.raises(CommandError, match="完整性"):
        run(paths)


def test_a_forged_status_list_is_refused(issue, published):
    paths = published(issue())
    credential = json.loads(paths["status"].read_text())
    credential["encodedLists"]["revocation"] = (
        credential["encodedLists"]["suspension"] + "A"
    )
    paths["status"].write_text(json.dumps(credential))
    with pytest.raises(CommandError, match="不可信") as refused:
        run(paths)
    assert refused.value.returncode == 2
