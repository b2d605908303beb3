"""The files a service guide offers for download: each material's blank form (空白表格) and filled-in
sample (示例样表), and the sample of the result (结果样本).

They are ordinary stored files (`onewindow.core.files`, purpose `PURPOSE`); a version's content
names them by token. Who may read one follows from the versions that name it:

- anyone, through `catalogue:guide_file`, once a published (or superseded) version of the
  item names it (`selectors.public_guide_file`);
- staff who may edit or review an item, for a file any version of that item names, drafts
  included (`staff_may_read`, a `core.files` read rule registered when the app is ready);
- the uploader, as for every stored file.

A file stays on disk while its StoredFile row exists: the orphan sweep in `core.files` only
removes bytes without a row, so a file named only by catalogue content is never swept. An
upload whose save the service refuses is rolled back with the save (the editor stores uploads
and saves the draft in one transaction), leaving rowless bytes that the sweep removes.
"""

import re
from typing import Any

from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from onewindow.catalogue import services
from onewindow.catalogue.models import ImplementationItem, ItemVersion
from onewindow.core import files as core_files
from onewindow.core.models import StoredFile

PURPOSE = "catalogue_guide"
KINDS = ("pdf", "docx", "xlsx", "ofd", "jpg", "png")
# Stored-file tokens are URL-safe base64; the content schema allows up to 64 characters.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_token(value: Any) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def content_file_tokens(content: Any) -> set[str]:
    """The stored-file tokens a version's content names as guide files."""
    if not isinstance(content, dict):
        return set()
    values = [content.get("result_sample")]
    for material in content.get("materials") or []:
        if isinstance(material, dict):
            values += [material.get("blank_form"), material.get("sample")]
    return {value for value in values if is_token(value)}


def versions_naming(versions: QuerySet[ItemVersion], token: str) -> list[ItemVersion]:
    """The versions among `versions` whose content names `token` as a guide file.

    The database narrows the versions to those whose content mentions the token at all (the
    JSON as text, the same on SQLite and PostgreSQL); the exact check is then made on each."""
    if not is_token(token):
        return []
    mentioning = (
        versions.annotate(content_text=Cast("content", TextField()))
        .filter(content_text__contains=f'"{token}"')
        .only("pk", "item_id", "status", "content")
    )
    return [version for version in mentioning if token in content_file_tokens(version.content)]


def staff_may_read(user: Any, stored_file: StoredFile) -> bool:
    """Read rule: staff who may edit or review an item read the guide files its versions name."""
    if stored_file.purpose != PURPOSE:
        return False
    item_ids = {version.item_id for version in versions_naming(ItemVersion.objects.all(), stored_file.token)}
    items = ImplementationItem.objects.filter(pk__in=item_ids).select_related("department__region")
    return any(services.may_edit(user, item) or services.may_review(user, item) for item in items)


def register() -> None:
    """Register the read rule once (called from the app's ready())."""
    if staff_may_read not in core_files.read_rules:
        core_files.register_read_rule(staff_may_read)
