"""State changes for administrative regions and departments.

Each service validates first (raising InvalidInput with a translated message and the
offending field, so nothing is written), then writes the row and exactly one audit entry in
the same transaction. An update that changes nothing writes nothing, not even an audit entry.
The `clean_*` helpers are the same validation, exposed so the admin forms show the messages
beside the fields.
"""

from dataclasses import dataclass
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from onewindow.core import audit
from onewindow.core.choices import RegionLevel
from onewindow.core.errors import InvalidInput
from onewindow.core.identifiers import normalise_region_code, parent_region_code, parse_uscc, region_level_for_code
from onewindow.core.models import Department, Region


class _Unset:
    """Marks an argument the caller left out (None is a meaningful value for `parent`)."""


UNSET: Final = _Unset()


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _clean_text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise InvalidInput(
            _("%(label)s不能超过%(max)d个字符。") % {"label": label, "max": max_length}, field=field
        )
    return text


# --- regions -------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionFields:
    code: str
    name: str
    level: RegionLevel
    parent: Region | None
    path: str


def clean_region_name(name: Any) -> str:
    return _clean_text(name, field="name", label=_("区划名称"), max_length=100, required=True)


def clean_region_fields(*, code: Any, name: Any, parent: Region | None) -> RegionFields:
    """Validate a new region: code shape, the parent its code implies, uniqueness."""
    try:
        code = normalise_region_code(code)
    except ValidationError as exc:
        raise InvalidInput(_message(exc), field="code") from None
    name = clean_region_name(name)
    level = region_level_for_code(code)
    # GB/T 2260 codes embed their parent's: county 520302 sits under 520300, which sits
    # under 520000; township 520302001000 under county 520302.
    expected = parent_region_code(code)
    if expected is None and parent is not None:
        raise InvalidInput(_("省级区划没有上级区划。"), field="parent")
    if expected is not None:
        if parent is None:
            raise InvalidInput(
                _("%(level)s区划必须指定上级区划（应为 %(expected)s）。") % {"level": level.label, "expected": expected},
                field="parent",
            )
        if not isinstance(parent, Region) or parent.pk is None:
            raise InvalidInput(_("上级区划不存在。"), field="parent")
        if parent.code != expected:
            raise InvalidInput(
                _("区划代码 %(code)s 的上级区划应为 %(expected)s，而不是「%(parent)s」。")
                % {"code": code, "expected": expected, "parent": parent},
                field="parent",
            )
    existing = Region.objects.filter(code=code).first()
    if existing is not None:
        raise InvalidInput(
            _("区划代码 %(code)s 已被「%(name)s」使用。") % {"code": code, "name": existing.name}, field="code"
        )
    path = (parent.path if parent is not None else "") + code + "/"
    return RegionFields(code=code, name=name, level=level, parent=parent, path=path)


def _region_facts(region: Region) -> dict[str, Any]:
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "parent": region.parent.code if region.parent_id else None,
        "path": region.path,
    }


@transaction.atomic
def region_create(*, actor: Any, code: str, name: str, parent: Region | None) -> Region:
    """Create a region; its level comes from the code and its path from the parent."""
    fields = clean_region_fields(code=code, name=name, parent=parent)
    try:
        with transaction.atomic():
            region = Region.objects.create(
                code=fields.code, name=fields.name, level=fields.level, parent=fields.parent, path=fields.path
            )
    except IntegrityError:
        # A concurrent request created the same code between the check and the insert.
        raise InvalidInput(_("区划代码 %(code)s 已存在。") % {"code": fields.code}, field="code") from None
    audit.record(actor=actor, action="region.create", target=region, after=_region_facts(region))
    return region


@transaction.atomic
def region_update(*, actor: Any, region: Region, name: str) -> Region:
    """Rename a region. Codes, levels and parents are fixed: a changed code is a new region."""
    name = clean_region_name(name)
    current = Region.objects.select_for_update().get(pk=region.pk)
    if current.name == name:
        return current
    before = {"name": current.name}
    current.name = name
    current.save(update_fields=["name", "updated_at"])
    audit.record(actor=actor, action="region.update", target=current, before=before, after={"name": name})
    return current


# --- departments -----------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentFields:
    name: str
    short_name: str
    uscc: str
    region: Region
    parent: Department | None
    warnings: tuple[str, ...]


def _is_within(inner: Region, outer: Region) -> bool:
    return inner.path.startswith(outer.path)


def clean_department_fields(
    *,
    name: Any,
    short_name: Any,
    uscc: Any,
    region: Region | None,
    parent: Department | None,
    department: Department | None = None,
) -> DepartmentFields:
    """Validate a department's fields; `department` is the one being edited, if any."""
    name = _clean_text(name, field="name", label=_("部门名称"), max_length=200, required=True)
    short_name = _clean_text(short_name, field="short_name", label=_("简称"), max_length=50, required=False)
    try:
        parsed = parse_uscc(uscc)
    except ValidationError as exc:
        raise InvalidInput(_message(exc), field="uscc") from None
    clash = Department.objects.filter(uscc=parsed.number)
    if department is not None:
        clash = clash.exclude(pk=department.pk)
    other = clash.first()
    if other is not None:
        raise InvalidInput(
            _("统一社会信用代码 %(uscc)s 已被「%(name)s」使用。") % {"uscc": parsed.number, "name": other.name},
            field="uscc",
        )
    if not isinstance(region, Region) or region.pk is None:
        raise InvalidInput(_("请选择部门所属区划。"), field="region")
    if parent is not None:
        if not isinstance(parent, Department) or parent.pk is None:
            raise InvalidInput(_("上级部门不存在。"), field="parent")
        if department is not None and _is_ancestor_or_self(department, parent):
            raise InvalidInput(_("上级部门不能是本部门或其下级部门。"), field="parent")
        if not _is_within(region, parent.region):
            raise InvalidInput(
                _("上级部门「%(parent)s」所属区划须为「%(region)s」或其上级区划。")
                % {"parent": parent.name, "region": region},
                field="parent",
            )
    if department is not None:
        for child in department.children.select_related("region"):
            if not _is_within(child.region, region):
                raise InvalidInput(
                    _("下级部门「%(child)s」不在「%(region)s」范围内，不能变更所属区划。")
                    % {"child": child.name, "region": region},
                    field="region",
                )
    return DepartmentFields(
        name=name, short_name=short_name, uscc=parsed.number, region=region, parent=parent, warnings=parsed.warnings
    )


def _is_ancestor_or_self(department: Department, candidate: Department) -> bool:
    """Whether `department` is `candidate` or one of its ancestors (walks up from candidate)."""
    seen: set[int] = set()
    node: Department | None = candidate
    while node is not None and node.pk not in seen:
        if node.pk == department.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _department_facts(department: Department) -> dict[str, Any]:
    return {
        "name": department.name,
        "short_name": department.short_name,
        "uscc": department.uscc,
        "region": department.region.code,
        "parent": department.parent_id,
        "is_active": department.is_active,
    }


@transaction.atomic
def department_create(
    *,
    actor: Any,
    name: str,
    short_name: str,
    uscc: str,
    region: Region,
    parent: Department | None = None,
) -> Department:
    """Create an active department. The USCC is normalised; a failing embedded
    organisation-code check digit is accepted (callers may show `parse_uscc(...).warnings`)."""
    fields = clean_department_fields(name=name, short_name=short_name, uscc=uscc, region=region, parent=parent)
    try:
        with transaction.atomic():
            department = Department.objects.create(
                name=fields.name,
                short_name=fields.short_name,
                uscc=fields.uscc,
                region=fields.region,
                parent=fields.parent,
            )
    except IntegrityError:
        raise InvalidInput(
            _("统一社会信用代码 %(uscc)s 已存在。") % {"uscc": fields.uscc}, field="uscc"
        ) from None
    audit.record(actor=actor, action="department.create", target=department, after=_department_facts(department))
    return department


@transaction.atomic
def department_update(
    *,
    actor: Any,
    department: Department,
    name: str | None = None,
    short_name: str | None = None,
    uscc: str | None = None,
    region: Region | None = None,
    parent: Department | None | _Unset = UNSET,
    is_active: bool | None = None,
) -> Department:
    """Change the given fields (None or UNSET leaves a field as it is; `parent=None` detaches)."""
    # Lock only the department's own row: the parent is a nullable join PostgreSQL cannot lock.
    current = (
        Department.objects.select_for_update(of=("self",)).select_related("region", "parent").get(pk=department.pk)
    )
    fields = clean_department_fields(
        name=current.name if name is None else name,
        short_name=current.short_name if short_name is None else short_name,
        uscc=current.uscc if uscc is None else uscc,
        region=current.region if region is None else region,
        parent=current.parent if isinstance(parent, _Unset) else parent,
        department=current,
    )
    wanted = {
        "name": fields.name,
        "short_name": fields.short_name,
        "uscc": fields.uscc,
        "region": fields.region,
        "parent": fields.parent,
        "is_active": current.is_active if is_active is None else bool(is_active),
    }
    before_all = _department_facts(current)
    changed = [f for f, value in wanted.items() if getattr(current, f) != value]
    if not changed:
        return current
    for f in changed:
        setattr(current, f, wanted[f])
    try:
        with transaction.atomic():
            current.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise InvalidInput(
            _("统一社会信用代码 %(uscc)s 已存在。") % {"uscc": fields.uscc}, field="uscc"
        ) from None
    after_all = _department_facts(current)
    audit.record(
        actor=actor,
        action="department.update",
        target=current,
        before={f: before_all[f] for f in changed},
        after={f: after_all[f] for f in changed},
    )
    return current
