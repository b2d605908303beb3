"""Chinese full-text search over the published service-item catalogue.

How it works, and why:

* **Words come from jieba, not from the database.** Chinese has no spaces, and neither
  SQLite's FTS5 nor PostgreSQL ships a Chinese word splitter (FTS5's trigram tokenizer and
  pg_trgm match any 3-character run, so 老年证 or 施工许可 rank poorly and two-character
  words such as 执照 cannot match at all; zhparser and pg_jieba are C extensions a hosted
  PostgreSQL rarely offers, and SQLite has none). jieba runs in Python, so both databases
  index exactly the same words. Text and queries are both cut with `cut_for_search`, which
  adds the shorter words inside a long one (营业执照 → 营业 执照 营业执照), so a query
  matches whether the guide or the citizen uses the longer or the shorter word.
* **Matching and ranking come from the database.** Each published item has one
  `SearchDocument` row with three columns of space-separated words (title, keywords,
  body); migration 0002 indexes them with the database's own full-text engine: FTS5 with
  the unicode61 tokenizer and BM25 ranking on SQLite, stored tsvectors with GIN indexes
  and ts_rank on PostgreSQL. The index stays inside the database and inside the same
  transaction as the publication that changed it; no search server to run or keep in step.
* **Relevance.** Items whose name or keywords (aliases, 俗称) match come first, then items
  matching only in the body (department, conditions, materials, result, themes): someone
  typing 营业执照 wants 个体工商户营业执照核发 before the dozens of items that merely ask
  for a copy of one. Within each part, BM25 with column weights title 10, keywords 8,
  body 1 (ts_rank with weights A 1.0, B 0.8, C 0.1 on PostgreSQL). Both normalise by
  length, so of two items matching alike the one with the shorter name ranks first;
  what ties remain (the same item in two regions) goes to the lower id. Splitting the
  parts also bounds the work: the first page ranks the name matches, usually a few
  hundred, not every item that mentions a word.
* **AND, then OR.** Every query word must match; when that finds nothing, any word may
  match and the items with the most and the rarest words rank first, so a colloquial
  老年证 (老年 证) still finds 老年人优待证办理. BM25 weighs rare words up by itself;
  ts_rank does not, so on PostgreSQL each word's rank is multiplied by its squared length
  (capped), because a longer Chinese word is a rarer one.
* **Counting** reads every matching row, so it stops at MAX_TOTAL ("1000+").
* **Safety.** User input never reaches a query language: the query is cut into words made
  of letters and digits only, and each is passed as a quoted FTS5 string or a bound
  parameter of plainto_tsquery. Queries are cut to MAX_QUERY_CHARS and MAX_QUERY_TERMS.
* **Filters** (department, region, type, theme, list) are whatever queryset of
  ImplementationItem the caller passes; it goes to the database as a subquery, applied
  one way to a small filter and another to a large one (see `scope_condition`), so the
  ids never travel through Python. A count and a page go as one statement.
"""

import abc
import logging
import re
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import translation

from onewindow.catalogue.choices import ItemType
from onewindow.catalogue.models import ImplementationItem, SearchDocument, Theme
from onewindow.core.models import Department

# Longer queries are cut: no service-item name is this long, and the cost of a query grows
# with its number of words.
MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 16
MAX_LIMIT = 100
# Counting reads every matching row; nobody pages this far, so counts stop here.
MAX_TOTAL = 1000
# Filters keeping at most this many items are read into a list once per statement.
SMALL_SCOPE = 10_000

# Column weights: title, keywords, body.
SQLITE_WEIGHTS = (10.0, 8.0, 1.0)
# ts_rank takes weights in the order D, C, B, A; migration 0002 labels title A, keywords B,
# body C. These are the SQLite weights scaled to ts_rank's 0..1.
PG_WEIGHTS = "{0, 0.1, 0.8, 1.0}"
# PostgreSQL stand-in for inverse document frequency: min(length, PG_LENGTH_CAP) squared.
PG_LENGTH_CAP = 4

FTS_TABLE = "catalogue_search_fts"
DOCUMENT_FIELDS = ("title", "keywords", "body")

# Runs of letters and digits: what remains of a jieba word once punctuation, spaces,
# symbols and emoji are dropped. The underscore is excluded because both full-text engines
# split on it.
_WORD = re.compile(r"[^\W_]+")

_jieba_lock = threading.Lock()
_jieba_tokenizer: Any = None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: item ids best first, and how many items match in all.

    `partial` is True when no item matched every word and the page ranks items matching
    some of them. `exact` is False when more than MAX_TOTAL items match and `total` is
    MAX_TOTAL ("1000+").
    """

    ids: list[int]
    total: int
    partial: bool = False
    exact: bool = True


def _cache_dir() -> str:
    """jieba caches its parsed dictionary (~1 s to build) in a file; keep it with our data."""
    data_dir = getattr(settings, "DATA_DIR", None)
    if data_dir:
        path = Path(data_dir) / "cache"
        try:
            path.mkdir(parents=True, exist_ok=True)
            return str(path)
        except OSError:
            pass
    return tempfile.gettempdir()


def _jieba() -> Any:
    """The shared jieba tokenizer, initialised once per process (about half a second)."""
    global _jieba_tokenizer
    if _jieba_tokenizer is None:
        with _jieba_lock:
            if _jieba_tokenizer is None:
                import jieba

                # jieba reports loading its dictionary on stderr at DEBUG level.
                jieba.setLogLevel(logging.WARNING)
                jieba.dt.tmp_dir = _cache_dir()
                jieba.dt.initialize()
                _jieba_tokenizer = jieba.dt
    return _jieba_tokenizer


def warm_up() -> None:
    """Load jieba's dictionary now (about half a second from its cache file, DATA_DIR/cache)
    rather than in the first search a process serves."""
    _jieba()


def tokens(text: str) -> list[str]:
    """The words of `text` as they are indexed and searched, in order, repeats kept.

    NFKC folds full-width letters and digits (ＡＢＣ１２３) to ASCII; letters are lower-cased.
    """
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower()
    words: list[str] = []
    for word in _jieba().cut_for_search(text):
        words.extend(_WORD.findall(word))
    return words


def query_terms(query: str | None) -> list[str]:
    """The distinct words a query searches for; empty when there is nothing to search."""
    if not query:
        return []
    return list(dict.fromkeys(tokens(query[:MAX_QUERY_CHARS])))[:MAX_QUERY_TERMS]


def _required(terms: list[str]) -> list[str]:
    """The words an all-words query must ask for: a word of two or more characters inside a
    longer query word is implied by it, because cut_for_search adds the same inner words
    wherever it meets the longer one (营业执照 brings 营业 and 执照). Leaving them out
    matches the same items with fewer lookups and keeps PostgreSQL's row estimates sane:
    it multiplies the frequencies of words that in truth always come together."""
    return [t for t in terms if len(t) < 2 or not any(t != other and t in other for other in terms)]


def _joined(texts: Iterable[str]) -> str:
    # Each text is cut on its own, so no word is formed across two materials or keywords.
    return " ".join(word for text in texts if text for word in tokens(text))


def _type_label(code: str) -> str:
    try:
        label = ItemType(code).label
    except ValueError:
        return ""
    # The source text (Chinese) whatever language the current request uses.
    with translation.override(None):
        return str(label)


def _document_fields(
    item: ImplementationItem, content: dict[str, Any], department: Department, theme_names: dict[str, str]
) -> dict[str, str]:
    """The three columns of an item's search document, from its published content."""
    materials = [m.get("name", "") for m in content.get("materials", []) if isinstance(m, dict)]
    themes = [theme_names.get(code, "") for code in content.get("themes", [])]
    body = [
        department.name,
        department.short_name,
        _type_label(content.get("item_type", "")),
        content.get("result_name", ""),
        content.get("conditions", ""),
        *materials,
        *themes,
    ]
    return {
        "title": _joined([content.get("name") or item.name]),
        "keywords": _joined(content.get("keywords", [])),
        "body": _joined(body),
    }


def _theme_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    themes = Theme.objects.all() if codes is None else Theme.objects.filter(code__in=list(codes))
    return dict(themes.values_list("code", "name"))


def _write(documents: Sequence[SearchDocument]) -> int:
    """Insert or update documents whose text changed; returns how many were written.

    Unchanged documents are skipped so a reindex does not churn the full-text index.
    """
    if not documents:
        return 0
    existing = {
        row["item_id"]: row
        for row in SearchDocument.objects.filter(item_id__in=[d.item_id for d in documents]).values(
            "item_id", *DOCUMENT_FIELDS
        )
    }
    changed = [
        d
        for d in documents
        if d.item_id not in existing
        or any(existing[d.item_id][name] != getattr(d, name) for name in DOCUMENT_FIELDS)
    ]
    if changed:
        SearchDocument.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["item"], update_fields=list(DOCUMENT_FIELDS)
        )
    return len(changed)


def index_item(item: ImplementationItem) -> None:
    """Bring the item's search document in line with its current (published) version.

    An item without a current version has no document, so it can no longer be found.
    Call it in the transaction that publishes, withdraws or moves the item.
    """
    version = item.current_version
    if version is None:
        remove_item(item)
        return
    content = version.content if isinstance(version.content, dict) else {}
    fields = _document_fields(item, content, item.department, _theme_names(content.get("themes", [])))
    _write([SearchDocument(item_id=item.pk, **fields)])


def remove_item(item: ImplementationItem) -> None:
    """Remove the item from search."""
    SearchDocument.objects.filter(item_id=item.pk).delete()


@dataclass(frozen=True)
class ReindexResult:
    written: int
    unchanged: int
    removed: int


def reindex_all(
    *, batch_size: int = 500, progress: Callable[[int, int], None] | None = None, rebuild_index: bool = False
) -> ReindexResult:
    """Recompute the documents of all published items in batches, one transaction each,
    and drop the documents of items no longer published.

    `rebuild_index` also rebuilds SQLite's FTS5 index from the documents, which repairs it
    after the document table was rebuilt without its triggers. After writing, the FTS5
    index is merged (SQLite) or the table's statistics refreshed (PostgreSQL).
    """
    removed, _ = SearchDocument.objects.filter(item__current_version__isnull=True).delete()
    themes = _theme_names()
    items = (
        ImplementationItem.objects.filter(current_version__isnull=False)
        .select_related("current_version", "department")
        .order_by("pk")
    )
    total = items.count()
    done = written = 0
    last_pk = 0
    while True:
        batch = list(items.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            break
        documents = []
        for item in batch:
            content = item.current_version.content if isinstance(item.current_version.content, dict) else {}
            documents.append(SearchDocument(item_id=item.pk, **_document_fields(item, content, item.department, themes)))
        with transaction.atomic():
            written += _write(documents)
        done += len(batch)
        last_pk = batch[-1].pk
        if progress:
            progress(done, total)
    connection = connections[router.db_for_write(SearchDocument)]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and rebuild_index:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        elif connection.vendor == "sqlite" and written + removed:
            # Many small index segments after a bulk write: merge them into one.
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
        elif connection.vendor == "postgresql" and written + removed:
            # The planner weighs full-text matches against filters by these statistics.
            cursor.execute("ANALYZE catalogue_searchdocument")
    return ReindexResult(written=written, unchanged=done - written, removed=removed)


def _id_sql(queryset: QuerySet[ImplementationItem], connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.order_by().values("pk").query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


# Querysets that add nothing to what the documents already hold (one per published item):
# dropping them spares the database a semi-join against every published item.
def _unfiltered_sql(connection: BaseDatabaseWrapper) -> set[tuple[str, tuple[Any, ...]]]:
    return {
        _id_sql(qs, connection)
        for qs in (ImplementationItem.objects.all(), ImplementationItem.objects.filter(current_version__isnull=False))
    }


class _EmptyScope(Exception):
    pass


@dataclass(frozen=True)
class _Scope:
    """A filter: its queryset, its id subquery, and whether it keeps at most SMALL_SCOPE items."""

    queryset: QuerySet[ImplementationItem]
    sql: str
    params: list[Any]
    small: bool


def _scope(queryset: QuerySet[ImplementationItem] | None, connection: BaseDatabaseWrapper) -> _Scope | None:
    """The queryset as a filter on document ids; None when it filters nothing out; raises
    _EmptyScope when it is empty. How the filter is applied depends on its size, so it is
    counted first, up to SMALL_SCOPE + 1: a cheap read when the filter is indexed."""
    if queryset is None:
        return None
    if queryset.model is not ImplementationItem:
        raise TypeError("search_ids() filters with a queryset of ImplementationItem")
    try:
        sql, params = _id_sql(queryset, connection)
    except EmptyResultSet:
        raise _EmptyScope from None
    if (sql, params) in _unfiltered_sql(connection):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s) AS s", [*params, SMALL_SCOPE + 1])
        size = cursor.fetchone()[0]
    if size == 0:
        raise _EmptyScope
    return _Scope(queryset, sql, list(params), small=size <= SMALL_SCOPE)


@dataclass(frozen=True)
class _Count:
    part: str
    every: bool


@dataclass(frozen=True)
class _Ids:
    part: str
    every: bool
    limit: int
    offset: int


class _Search(abc.ABC):
    """One query against one database, in three parts: every match ("all"), the items whose
    name or keywords match ("head"), and the rest ("body"), which rank below the head.

    Several counts and pages go to the database as one statement, so a filter is computed
    once, not once per count or page.
    """

    from_ = ""  # the FROM clause of the full-text table
    select_id = ""  # SELECT of the document id FROM it
    id_ref = ""  # the document id, for a correlated subquery

    def __init__(self, connection: BaseDatabaseWrapper, terms: list[str], queryset: QuerySet | None):
        self.connection = connection
        self.terms = terms
        self.required = _required(terms)
        self.scope = _scope(queryset, connection)

    def words(self, every: bool) -> list[str]:
        return self.required if every else self.terms

    def run(self, *asks: "_Count | _Ids") -> list[Any]:
        """Answer each ask: a count (up to MAX_TOTAL + 1) or a page of ids, best first."""
        branches, params = [], []
        for number, ask in enumerate(asks):
            where, where_params = self.where(ask.part, every=ask.every)
            if isinstance(ask, _Count):
                count, count_params = self.count(where)
                branches.append(f"SELECT {number}, ({count}), NULL, NULL")
                params += [*where_params, *count_params]
            else:
                keys, key_params = self.keys(ask.part, every=ask.every)
                branches.append(
                    f"SELECT {number}, p.id, p.k1, p.k2 FROM ("
                    f"SELECT {self.id_ref} AS id, {keys} {self.from_} {where} "
                    f"ORDER BY k1, k2, id LIMIT %s OFFSET %s) AS p"
                )
                params += [*key_params, *where_params, ask.limit, ask.offset]
        sql = " UNION ALL ".join(branches)
        if self.scope and self.scope_in_cte():
            sql = f"WITH scope AS MATERIALIZED ({self.scope.sql}) {sql}"
            params = [*self.scope.params, *params]
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        answers: list[Any] = [0 if isinstance(ask, _Count) else [] for ask in asks]
        # The rows of a UNION come in no promised order: sort by ask, then by the page's keys.
        for number, value, *_keys in sorted(rows, key=lambda row: (row[0], row[2] or 0, row[3] or 0, row[1])):
            if isinstance(asks[number], _Count):
                answers[number] = value
            else:
                answers[number].append(value)
        return answers

    def count(self, where: str) -> tuple[str, list[Any]]:
        """Count the matches up to MAX_TOTAL + 1 (a count reads every row it counts)."""
        return f"SELECT count(*) FROM ({self.select_id} {where} LIMIT %s) AS m", [MAX_TOTAL + 1]

    @abc.abstractmethod
    def scope_in_cte(self) -> bool:
        """Whether the filter is computed once, as the CTE `scope`, for the statement."""

    @abc.abstractmethod
    def scope_condition(self) -> tuple[str, list[Any]]:
        """The test that a document is within the filter (AND-ed to the match)."""

    @abc.abstractmethod
    def where(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        """The WHERE clause matching the words of `part` (all of them with `every`)."""

    @abc.abstractmethod
    def keys(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        """The sort keys k1, k2 (ascending; the id breaks what ties remain)."""


class _SQLiteSearch(_Search):
    from_ = f"FROM {FTS_TABLE}"
    select_id = f"SELECT {FTS_TABLE}.rowid {from_}"
    id_ref = f"{FTS_TABLE}.rowid"

    def scope_in_cte(self) -> bool:
        return bool(self.scope and self.scope.small)

    def scope_condition(self) -> tuple[str, list[Any]]:
        # A small filter (a department, a county) is read once into a list the matches are
        # tested against; the unary + keeps SQLite from running the full-text query once per
        # id of the list instead. A large one (an item type, a list) would cost a read of
        # tens of thousands of ids per statement, so it is looked up per match by primary key.
        if not self.scope:
            return "", []
        if self.scope.small:
            return f" AND +{FTS_TABLE}.rowid IN (SELECT pk FROM scope)", []
        correlated = self.scope.queryset.filter(pk=RawSQL(self.id_ref, (), output_field=BigIntegerField()))
        sql, params = _id_sql(correlated, self.connection)
        return f" AND EXISTS ({sql})", list(params)

    def where(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        # Each word is a quoted FTS5 string ("" escapes a quote), so no input is FTS5 syntax.
        words = (" AND " if every else " OR ").join('"' + w.replace('"', '""') + '"' for w in self.words(every))
        head = "{title keywords} : (" + words + ")"
        match = {"all": words, "head": head, "body": f"({words}) NOT {head}"}[part]
        scope, params = self.scope_condition()
        return f"WHERE {FTS_TABLE} MATCH %s{scope}", [match, *params]

    def keys(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        # BM25 normalises by length, so of two items matching alike the shorter ranks first;
        # exact ties are items with the same text.
        return f"bm25({FTS_TABLE}, {', '.join(str(w) for w in SQLITE_WEIGHTS)}) AS k1, 0 AS k2", []


class _PostgreSQLSearch(_Search):
    from_ = "FROM catalogue_searchdocument AS d"
    select_id = f"SELECT d.item_id {from_}"
    id_ref = "d.item_id"

    def scope_in_cte(self) -> bool:
        return self.scope is not None

    def scope_condition(self) -> tuple[str, list[Any]]:
        # The planner cannot be left to choose here: it estimates an AND of words by
        # multiplying their frequencies, so it expects a handful of matches where thousands
        # come (医师 执业 注册 go together), and joins with a nested loop that costs seconds.
        # A small filter is read by primary key, the ids as an array (which the planner takes
        # for a short one); a large one is a hashed list each match is looked up in (IS TRUE
        # keeps the test from being turned into a join).
        if not self.scope:
            return "", []
        if self.scope.small:
            return " AND d.item_id = ANY(ARRAY(SELECT pk FROM scope))", []
        return " AND (d.item_id IN (SELECT pk FROM scope)) IS TRUE", []

    def where(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        # tsquery's && and || combine one plainto_tsquery per word; words are bound parameters.
        words = self.words(every)
        query = "(" + (" && " if every else " || ").join("plainto_tsquery('simple', %s)" for _ in words) + ")"
        conditions = {
            "all": [f"d.search_vector @@ {query}"],
            "head": [f"d.head_vector @@ {query}"],
            "body": [f"d.search_vector @@ {query}", f"NOT d.head_vector @@ {query}"],
        }[part]
        scope, params = self.scope_condition()
        return "WHERE " + " AND ".join(conditions) + scope, [*(words * len(conditions)), *params]

    def keys(self, part: str, *, every: bool) -> tuple[str, list[Any]]:
        words = self.words(every)
        vector = "d.head_vector" if part == "head" else "d.search_vector"
        # Normalisation 1 divides by 1 + log(length), as BM25 favours the shorter of two
        # items that match alike; the title length then settles ties ts_rank still leaves.
        rank = " + ".join(
            f"{min(len(word), PG_LENGTH_CAP) ** 2} * ts_rank('{PG_WEIGHTS}', {vector}, plainto_tsquery('simple', %s), 1)"
            for word in words
        )
        return f"-({rank}) AS k1, length(d.title) AS k2", words


_BACKENDS: dict[str, type[_Search]] = {"sqlite": _SQLiteSearch, "postgresql": _PostgreSQLSearch}


def search_ids(
    query: str,
    *,
    queryset: QuerySet[ImplementationItem] | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Ids of the published items matching `query`, best first, within `queryset` if given.

    A query without any word (blank, only punctuation or emoji) searches nothing and returns
    an empty page: callers check `query_terms(query)` and list the catalogue instead.
    Documents exist only for published items, so `queryset` is needed only to filter.
    Results are counted up to MAX_TOTAL; pages beyond it are empty.
    """
    terms = query_terms(query)
    if not terms:
        return SearchPage(ids=[], total=0)
    alias = queryset.db if queryset is not None else router.db_for_read(SearchDocument)
    connection = connections[alias]
    try:
        backend = _BACKENDS[connection.vendor]
    except KeyError:
        raise NotImplementedError(f"catalogue search supports SQLite and PostgreSQL, not {connection.vendor}") from None
    try:
        search = backend(connection, terms, queryset)
    except _EmptyScope:
        return SearchPage(ids=[], total=0)
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))

    # Items matching in their name or keywords come first, then those matching elsewhere.
    # One statement counts the matches and takes the page from the head (and, past the first
    # page, counts the head); the body is read only when the head runs out.
    for every in (True, False):
        asks = [_Count("all", every), _Ids("head", every, limit, offset)]
        if offset:
            asks.append(_Count("head", every))
        answers = search.run(*asks)
        total, ids = answers[0], answers[1]
        head = answers[2] if offset else len(ids)
        if total or len(terms) == 1:
            break
    exact = total <= MAX_TOTAL
    total = min(total, MAX_TOTAL)
    page = SearchPage(ids=[], total=total, partial=not every and total > 0, exact=exact)
    limit = min(limit, total - offset)
    if limit <= 0:
        return page
    ids = ids[:limit]
    if len(ids) < limit:
        (more,) = search.run(_Ids("body", every, limit - len(ids), max(0, offset - head)))
        ids += more
    return replace(page, ids=ids)
