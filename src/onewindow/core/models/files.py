from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from onewindow.core.models.base import TimeStampedModel


class FileKind(models.TextChoices):
    PDF = "pdf", _("PDF 文档")
    JPG = "jpg", _("JPEG 图片")
    PNG = "png", _("PNG 图片")
    OFD = "ofd", _("OFD 版式文档")
    DOCX = "docx", _("Word 文档")
    XLSX = "xlsx", _("Excel 表格")


class StoredFile(TimeStampedModel):
    """An uploaded file that passed the checks in `onewindow.core.files`.

    The bytes live at MEDIA_ROOT/`storage_path`, a server-made name; the user's file name is
    kept only as metadata. Downloads go through the `token` URL, never through the path.
    """

    token = models.CharField(_("下载令牌"), max_length=64, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="stored_files"
    )
    purpose = models.CharField(_("用途"), max_length=64, db_index=True)
    kind = models.CharField(_("文件类型"), max_length=8, choices=FileKind.choices)
    content_type = models.CharField(_("内容类型"), max_length=100)
    original_name = models.CharField(_("原文件名"), max_length=255)
    storage_path = models.CharField(_("存储路径"), max_length=100, unique=True, editable=False)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 摘要"), max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("上传文件")
        verbose_name_plural = _("上传文件")
        indexes = [models.Index(fields=["owner", "sha256"], name="core_storedfile_owner_hash")]

    def __str__(self) -> str:
        return self.original_name
