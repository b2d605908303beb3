"""Uploaded files in the admin: metadata only, read-only.

The download token is not shown and no link to the content is offered: reading a file goes
through `core:file_download` and its `can_read` check like everywhere else. Rows are not
deletable here, since cases and licences refer to them as evidence.
"""

from django.contrib import admin

from onewindow.core.admin.base import ReadOnlyAdmin
from onewindow.core.models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "kind", "size", "owner", "purpose", "created_at"]
    list_filter = ["kind", "purpose"]
    search_fields = ["original_name", "sha256", "owner__username"]
    list_select_related = ["owner"]
    fields = [
        "original_name", "kind", "content_type", "size", "sha256", "owner", "purpose", "storage_path", "created_at",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"
