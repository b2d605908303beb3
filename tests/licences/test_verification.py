"""The three checks against attacks: a tampered file, a forged signature, a revoked licence
presented as valid, a key from an unknown issuer; and selective disclosure."""

import json

import pytest

from onewindow.licences import crypto, document, selectors, services
from onewindow.licences.choices import CheckResult


@pytest.fixture
def licence(issue):
    return issue()


@pytest.fixture
def signed(licence) -> bytes:
    return licence.current_version.document.encode()


def test_a_genuine_file_passes_all_three_checks(signed):
    report = selectors.verify_file(signed)
    assert report.valid
    assert [c.result for c in report.checks] == [CheckResult.VALID] * 3


def test_every_single_byte_changed_fails_integrity(signed):
    """Each byte of the file in turn replaced by another: never a valid licence, and always
    the integrity check that says so."""
    for position in range(len(signed)):
        changed = bytearray(signed)
        changed[position] = ord("0") if signed[position] != ord("0") else ord("1")
        report = selectors.verify_file(bytes(changed))
        assert not report.valid, position
        assert "integrity" in report.failed, position


def test_a_changed_value_is_detected_as_tampering(signed):
    body = json.loads(signed)
    body["data"]["field.location"]["value"] = "汇川区某地"
    report = selectors.verify_file(document.canonical(body))
    assert report.failed == ["integrity"]
    assert "篡改" in report.checks[0].message


def test_a_forged_signature_with_the_departments_key_id_fails_integrity(signed):
    parsed = document.parse(signed)
    private, public = crypto.Ed25519().generate()
    forged_value = crypto.Ed25519().sign(private, public, parsed.signed_message())
    body = json.loads(signed)
    body["signature"]["value"] = forged_value
    report = selectors.verify_file(document.canonical(body))
    assert report.failed == ["integrity"]
    assert "伪造" in report.checks[0].message


def test_a_licence_signed_by_an_unknown_key_fails_issuer(licence):
    private, public = crypto.Ed25519().generate()
    facts = document.parse(licence.current_version.document).facts
    forged = document.wrap(
        facts,
        sign=lambda message: crypto.Ed25519().sign(private, public, message),
        algorithm="ed25519",
        key_id=crypto.key_id_of("ed25519", public),
        issuer=facts["issuer.uscc"],
    )
    report = selectors.verify_file(forged.serialise())
    assert "issuer" in report.failed and "integrity" in report.failed
    assert "可信签发机构" in report.checks[2].message


def test_a_revoked_licence_presented_as_valid_fails_status(world, licence, signed):
    services.licence_revoke(actor=world.editor, licence=licence, reason="吊销")
    report = selectors.verify_file(signed)
    assert report.failed == ["status"]


def test_an_expired_licence_fails_status_even_before_the_sweep(issue, licence_clock):
    import datetime as dt

    licence = issue()
    licence_clock.set(dt.date(2028, 12, 9))
    report = selectors.verify_licence(licence)
    assert report.failed == ["status"]
    assert "到期" in report.checks[1].message


def test_a_reformatted_file_is_not_accepted(signed):
    pretty = json.dumps(json.loads(signed), ensure_ascii=False, indent=2).encode()
    assert "integrity" in selectors.verify_file(pretty).failed


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b'{"format": "x"}', "你好".encode(), b"\xff\xfe"]
)
def test_garbage_is_reported_not_raised(raw):
    report = selectors.verify_file(raw)
    assert report.failed == ["integrity", "status", "issuer"]


def test_a_copy_with_hidden_fields_still_verifies(licence):
    shared = services.shared_copy(licence, ["field.location", "holder.id"])
    report = selectors.verify_file(shared.encode())
    assert report.valid
    assert "field.location" not in report.facts and "holder.id" not in report.facts
    assert report.hidden == 2
    assert report.facts["field.area"] == 12


def test_facts_needed_for_verification_cannot_be_hidden(licence):
    from onewindow.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.shared_copy(licence, ["number"])


def test_a_hidden_field_cannot_be_brought_back_with_another_value(licence):
    shared = json.loads(services.shared_copy(licence, ["field.location"]))
    shared["data"]["field.location"] = {"salt": "0" * 32, "value": "别处"}
    report = selectors.verify_file(document.canonical(shared))
    assert "integrity" in report.failed


def test_the_status_list_is_published_signed_and_decodes(world, licence):
    services.licence_revoke(actor=world.editor, licence=licence, reason="x")
    credential = selectors.status_list_credential(world.market.uscc)
    assert selectors.check_status_list(credential, selectors.trusted_key) is None
    lists = selectors.decode_status_lists(credential)
    assert len(lists["revocation"]) == services.STATUS_LIST_BYTES
    lookup = selectors.file_status_lookup([credential])
    assert lookup(world.market.uscc, licence.status_index).revoked
    credential["encodedLists"]["revocation"] = credential["encodedLists"][
        "suspension"
    ]  # the revocation hidden
    assert selectors.check_status_list(credential, selectors.trusted_key) is not None
