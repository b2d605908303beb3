"""core.prepared: a read whose SQL is built once answers exactly as the ORM's own query does."""

import datetime as dt

import pytest
import psycopg
from django.db import DatabaseError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onewindow.accounts.models import RoleAssignment
from onewindow.core.models import Notification, Region
from onewindow.core.prepared import (
    PreparedRead,
    attach,
    columns,
    columns_along,
    insert,
    loaded,
    loaded_along,
    statement_cursor,
    update,
)
from onewindow.core.services.regions import region_create

pytestmark = pytest.mark.django_db


def _children(parent: str, name: str):
    return (Region.objects.filter(parent__code=parent).exclude(name=name).exclude(name="")
            .order_by("code").values_list("code", "name", "parent__name", "created_at", "level"))


# The children of a region but the one of that name.
CHILDREN = PreparedRead(_children, parent=str, name=str)


@pytest.fixture
def regions(admin_user):
    province = region_create(actor=admin_user, code="520000", name="贵州省", parent=None)
    city = region_create(actor=admin_user, code="520300", name="遵义市", parent=province)
    region_create(actor=admin_user, code="520100", name="贵阳市", parent=province)
    region_create(actor=admin_user, code="520302", name="红花岗区", parent=city)
    return province


def test_rows_are_the_orms_own_with_its_conversions(regions):
    fields = ("code", "name", "parent__name", "created_at", "level")
    for parent, name in (("520000", "遵义市"), ("520000", ""), ("520300", "红花岗区"), ("520300", "遵义市"),
                         ("999999", "")):
        expected = [dict(zip(fields, row)) for row in _children(parent, name)]
        assert CHILDREN.rows(parent=parent, name=name) == expected
    # Dates come back as the ORM gives them (SQLite stores text), not as the driver's raw values.
    assert CHILDREN.rows(parent="520000", name="贵阳市")[0]["created_at"] == Region.objects.get(code="520300").created_at


def test_the_sql_is_built_once_per_connection(regions, monkeypatch):
    CHILDREN.rows(parent="520000", name="")
    built = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(SQLCompiler, "as_sql", lambda self, *a, **k: built.append(1) or original(self, *a, **k))
    with CaptureQueriesContext(connection) as queries:
        assert [row["code"] for row in CHILDREN.rows(parent="520000", name="")] == ["520100", "520300"]
        assert [row["code"] for row in CHILDREN.rows(parent="520300", name="")] == ["520302"]
    assert built == [] and len(queries) == 2


def test_a_parameter_that_does_not_reach_the_sql_unchanged_is_refused(regions):
    # A LIKE lookup escapes and wraps its value: the placeholder cannot be found again.
    wrapped = PreparedRead(lambda name: Region.objects.filter(name__contains=name).values_list("code"), name=str)
    with pytest.raises(TypeError):
        wrapped.rows(name="遵")
    whole_rows = PreparedRead(lambda code: Region.objects.filter(code=code), code=str)
    with pytest.raises(TypeError):
        whole_rows.rows(code="520000")


def test_loaded_instances_are_as_the_orm_makes_them_with_the_rest_deferred(regions, django_assert_num_queries):
    city = Region.objects.get(code="520300")
    row = CHILDREN.rows(parent="520000", name="贵阳市")[0]
    instance = loaded(Region, {"id": city.pk, "code": row["code"], "level": row["level"], "parent_id": city.parent_id})
    with django_assert_num_queries(0):
        assert (instance.pk, instance.code, instance.level, instance.parent_id) == (
            city.pk, city.code, city.level, city.parent_id)
        assert not instance._state.adding and instance.get_deferred_fields() >= {"name", "path"}
    with django_assert_num_queries(1):
        assert instance.name == "遵义市"


def test_integer_and_moment_parameters_answer_as_the_orm(regions):
    def build(parent, since):
        return Region.objects.filter(parent_id=parent, created_at__gte=since).order_by("code").values_list("code")

    read = PreparedRead(build, parent=int, since=dt.datetime)
    city = Region.objects.get(code="520300")
    for parent in (regions.pk, city.pk, 0):
        for since in (city.created_at, city.created_at + dt.timedelta(microseconds=1), dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
            assert [row["code"] for row in read.rows(parent=parent, since=since)] == [
                code for (code,) in build(parent, since)
            ]
    with pytest.raises(TypeError):
        PreparedRead(build, parent=float, since=dt.datetime).rows(parent=1.0, since=city.created_at)


def test_day_parameters_answer_as_the_orm(regions):
    def build(since, until):
        return Region.objects.filter(created_at__date__gte=since, created_at__date__lte=until).order_by("code") \
            .values_list("code")

    read = PreparedRead(build, since=dt.date, until=dt.date)
    # The day as `__date` sees it: in the platform's time zone, not UTC's.
    today = timezone.localdate(Region.objects.get(code="520300").created_at)
    days = (today - dt.timedelta(days=1), today, today + dt.timedelta(days=1))
    answers = {(since, until): [row["code"] for row in read.rows(since=since, until=until)]
               for since in days for until in days}
    assert answers == {(since, until): [code for (code,) in build(since, until)] for since in days for until in days}
    assert answers[today, today] and not answers[today + dt.timedelta(days=1), today + dt.timedelta(days=1)]


def test_whole_instances_with_their_relations_ask_nothing_more(regions, django_assert_num_queries):
    read = PreparedRead(
        lambda code: Region.objects.filter(code=code).values_list(*columns(Region), *columns(Region, "parent__")),
        code=str,
    )
    city = Region.objects.get(code="520300")
    row = read.rows(code="520300")[0]
    with django_assert_num_queries(0):
        instance, parent = loaded(Region, row), loaded(Region, row, prefix="parent__")
        attach(instance, "parent", parent)
        assert instance.get_deferred_fields() == set() and parent.get_deferred_fields() == set()
        assert (instance.pk, instance.path, instance.parent.code, instance.parent.name) == (
            city.pk, city.path, "520000", "贵州省")


# A region locked for a change, with its parent and grandparent read along.
LOCKED_WITH_ANCESTORS = PreparedRead(
    lambda code: Region.objects.select_for_update(of=("self",)).filter(code=code).order_by()
    .values_list(*columns_along(Region, ("parent__parent",))),
    code=str,
)


def test_a_tree_of_relations_is_loaded_with_none_where_a_key_is_empty(regions, django_assert_num_queries):
    with transaction.atomic():
        district = loaded_along(Region, LOCKED_WITH_ANCESTORS.rows(code="520302")[0], ("parent__parent",))
        province = loaded_along(Region, LOCKED_WITH_ANCESTORS.rows(code="520000")[0], ("parent__parent",))
    with django_assert_num_queries(0):
        assert (district.name, district.parent.name, district.parent.parent.name) == ("红花岗区", "遵义市", "贵州省")
        assert district.parent.parent.parent_id is None and province.parent is None


@pytest.mark.django_db(transaction=True)
def test_a_lock_is_taken_in_a_transaction_on_the_rows_of_its_own_model_only(regions):
    with pytest.raises(TransactionManagementError):
        LOCKED_WITH_ANCESTORS.rows(code="520302")
    with pytest.raises(TypeError, match="its own model"):
        PreparedRead(lambda code: Region.objects.select_for_update().filter(code=code).values_list("pk"),
                     code=str).rows(code="520302")
    with transaction.atomic():
        assert [row["code"] for row in LOCKED_WITH_ANCESTORS.rows(code="520302")] == ["520302"]
        if connection.vendor != "postgresql":
            return  # SQLite locks the whole database for a write, and has no row locks to take
        database = connection.settings_dict
        with psycopg.connect(dbname=database["NAME"], user=database["USER"], password=database["PASSWORD"],
                             host=database["HOST"], port=database["PORT"]) as other:
            # The parent row was read along, not locked: another transaction may take it at once.
            other.execute("SELECT 1 FROM core_region WHERE code = '520300' FOR UPDATE NOWAIT")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("SELECT 1 FROM core_region WHERE code = '520302' FOR UPDATE NOWAIT")


def test_insert_writes_new_rows_as_the_orm_would_with_their_defaults_and_ids(admin_user, django_assert_num_queries):
    first = Notification(recipient=admin_user, kind="case", subject="申请已提交", body="您的申请已提交。")
    second = Notification(recipient=admin_user, kind="case", subject="办件已办结", body="准予许可。", in_inbox=False)

    with django_assert_num_queries(1):
        insert(first, second)

    assert first.pk and second.pk > first.pk and not first._state.adding
    assert first.created_at is not None  # auto_now_add, as save() fills it
    for written in (first, second):
        read = Notification.objects.get(pk=written.pk)
        assert [(field.attname, getattr(read, field.attname)) for field in Notification._meta.concrete_fields] == [
            (field.attname, getattr(written, field.attname)) for field in Notification._meta.concrete_fields]
    assert Notification.objects.get(pk=first.pk).in_inbox and not Notification.objects.get(pk=second.pk).in_inbox
    with django_assert_num_queries(0):
        insert()


def test_insert_refuses_a_model_whose_saves_something_listens_to(admin_user):
    with pytest.raises(TypeError, match="signal receivers"):
        insert(RoleAssignment(user=admin_user))


def test_update_writes_every_field_as_save_would(regions, admin_user, django_assert_num_queries):
    district = Region.objects.get(code="520302")
    before = district.updated_at
    district.name, district.parent = "红花岗区（新）", None

    with django_assert_num_queries(1):
        update(district)

    read = Region.objects.get(pk=district.pk)
    assert (read.name, read.parent_id, read.code, read.path) == ("红花岗区（新）", None, "520302", district.path)
    assert read.updated_at == district.updated_at > before  # auto_now, as save() sets it
    Region.objects.filter(pk=district.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        update(district)
    with pytest.raises(TypeError, match="signal receivers"):
        update(RoleAssignment(pk=1, user=admin_user))


@pytest.mark.django_db(transaction=True)
def test_statements_share_a_cursor_while_the_database_connection_lasts(regions, admin_user):
    cursor = statement_cursor(connection)
    assert [row["code"] for row in CHILDREN.rows(parent="520000", name="")] == ["520100", "520300"]
    note = Notification(recipient=admin_user, kind="system", subject="共用游标", body="")
    insert(note)
    note.subject = "共用游标（改）"
    update(note)
    assert statement_cursor(connection) is cursor
    assert Notification.objects.get(pk=note.pk).subject == "共用游标（改）"

    connection.close()  # as at the end of a request: the next statement opens another connection
    fresh = statement_cursor(connection)
    assert fresh is not cursor
    assert [row["code"] for row in CHILDREN.rows(parent="520300", name="")] == ["520302"]
    assert statement_cursor(connection) is fresh


def test_while_queries_are_logged_each_statement_is_logged(regions):
    with CaptureQueriesContext(connection) as queries:
        assert statement_cursor(connection) is not statement_cursor(connection)
        CHILDREN.rows(parent="520000", name="")
    assert len(queries) == 1
