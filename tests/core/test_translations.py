"""The English catalogue: complete, compiled, and what the code actually shows under "en".

The .po is read with a small parser (no extra dependency) and compared with the committed
.mo, so a translation edited without running compilemessages fails here.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import pgettext

from onewindow.accounts.choices import Role
from onewindow.core.choices import RegionLevel
from onewindow.core.identifiers import validate_id_number, validate_region_code, validate_uscc_field

MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[a-z]|%[a-z]|\{\w*\}")
# CJK ideographs, CJK punctuation and full-width forms.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def parse_po(path: Path) -> list[dict]:
    """The live entries of a .po file (header included, obsolete ``#~`` entries left out).

    Each entry: ``msgctxt``, ``msgid``, ``msgid_plural`` (str or None), ``msgstr`` ({index: str},
    index 0 for a singular entry) and ``flags`` (set of the ``#,`` flags).
    """
    entries: list[dict] = []
    entry: dict | None = None
    key: tuple[str, int | None] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        # A comment or msgctxt/msgid after a complete entry opens the next one.
        if (line.startswith("#") or line.startswith(("msgctxt ", "msgid "))) and (entry is None or entry["msgstr"]):
            entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set()}
            entries.append(entry)
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            name, index = key
            if name == "msgstr":
                entry["msgstr"][index] += ast.literal_eval(line)
            else:
                entry[name] += ast.literal_eval(line)
        else:
            keyword, _, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if plural or keyword == "msgstr":
                index = int(plural[1]) if plural else 0
                key = ("msgstr", index)
                entry["msgstr"][index] = value
            else:
                assert keyword in {"msgctxt", "msgid", "msgid_plural"}, line
                key = (keyword, None)
                entry[keyword] = value
    return entries


def describe(entry: dict) -> str:
    return f"{entry['msgctxt']}|{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    parsed = parse_po(MESSAGES / "django.po")
    header = [entry for entry in parsed if entry["msgid"] == ""]
    assert len(header) == 1 and "Plural-Forms: nplurals=2; plural=(n != 1);" in header[0]["msgstr"][0]
    return [entry for entry in parsed if entry["msgid"] != ""]


def test_parser_reads_contexts_plurals_and_continuations(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#, fuzzy, python-format\nmsgid "甲 %(n)s"\nmsgstr ""\n"A "\n"%(n)s"\n\n'
        'msgctxt "list separator"\nmsgid "、"\nmsgstr ", "\n\n'
        'msgid "一条"\nmsgid_plural "多条"\nmsgstr[0] "one"\nmsgstr[1] "many"\n\n'
        '#~ msgid "旧"\n#~ msgstr "old"\n',
        encoding="utf-8",
    )
    header, fuzzy, context, plural = parse_po(po)
    assert header["msgstr"] == {0: "Language: en\n"}
    assert (fuzzy["msgid"], fuzzy["msgstr"], fuzzy["flags"]) == ("甲 %(n)s", {0: "A %(n)s"}, {"fuzzy", "python-format"})
    assert (context["msgctxt"], context["msgstr"]) == ("list separator", {0: ", "})
    assert (plural["msgid_plural"], plural["msgstr"]) == ("多条", {0: "one", 1: "many"})


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    assert len(entries) > 500
    fuzzy = [describe(entry) for entry in entries if "fuzzy" in entry["flags"]]
    empty = [describe(entry) for entry in entries if not all(text.strip() for text in entry["msgstr"].values())]
    plurals_incomplete = [
        describe(entry) for entry in entries if entry["msgid_plural"] is not None and set(entry["msgstr"]) != {0, 1}
    ]
    assert fuzzy == []
    assert empty == []
    assert plurals_incomplete == []


def test_translations_keep_placeholders_and_are_not_chinese(entries):
    for entry in entries:
        sources = [entry["msgid"]] if entry["msgid_plural"] is None else [entry["msgid"], entry["msgid_plural"]]
        expected = set(PLACEHOLDER.findall(sources[-1]))
        for text in entry["msgstr"].values():
            assert set(PLACEHOLDER.findall(text)) == expected, describe(entry)
            assert not CHINESE.search(text), describe(entry)


def test_compiled_catalogue_matches_the_po(entries):
    with (MESSAGES / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        context, msgid, plural, msgstr = entry["msgctxt"], entry["msgid"], entry["msgid_plural"], entry["msgstr"]
        if plural is None:
            found = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
            ok = found == msgstr[0]
        else:
            found = [compiled.npgettext(context, msgid, plural, n) if context else compiled.ngettext(msgid, plural, n)
                     for n in (1, 2)]
            ok = found == [msgstr[0], msgstr[1]]
        if not ok:
            stale.append(describe(entry))
    assert stale == [], "run compilemessages"


def test_role_and_region_level_labels_in_english():
    with translation.override("en"):
        assert {role.value: str(role.label) for role in Role} == {
            "window_clerk": "Window clerk",
            "reviewer": "Reviewer",
            "approver": "Chief representative (approver)",
            "department_admin": "Department administrator",
            "supervisor": "Supervisor",
            "legal_reviewer": "Legal reviewer",
            "village_agent": "Proxy service agent",
            "platform_admin": "Platform administrator",
        }
        assert str(RegionLevel.COUNTY.label) == "County level"
        assert pgettext("list separator", "、") == ", "
    with translation.override("zh-hans"):
        assert str(Role.WINDOW_CLERK.label) == "窗口受理员"
        assert str(RegionLevel.COUNTY.label) == "县级"


@pytest.mark.parametrize(
    "validate, value, english, chinese",
    [
        (validate_id_number, "110105194912310021", "The check digit of the ID number is wrong", "校验位不正确"),
        (validate_uscc_field, "91350100MO00100Y43", "never uses the letters I, O, S, V or Z", "I、O、S、V、Z"),
        (validate_region_code, "12345", "An administrative region code must have 6 digits", "行政区划代码应为6位"),
    ],
)
def test_identifier_messages_in_english(validate, value, english, chinese):
    for language, fragment in (("en", english), ("zh-hans", chinese)):
        with translation.override(language), pytest.raises(ValidationError) as caught:
            validate(value)
        assert fragment in caught.value.messages[0], (language, caught.value.messages)


@pytest.mark.django_db
def test_login_page_in_english_has_no_chinese_but_the_language_name(client):
    response = client.get("/en/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sign in" in html and "Password" in html
    assert set(CHINESE.findall(html.replace("简体中文", ""))) == set()
