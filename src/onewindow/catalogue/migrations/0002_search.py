"""Full-text search: the search documents and each database's own full-text index over them.

SQLite: an FTS5 table reading its text from catalogue_searchdocument (external content), kept
in step by the three triggers the FTS5 documentation gives. The text is already cut into
words and joined with spaces, so the unicode61 tokenizer only splits on spaces.

PostgreSQL: two generated, stored tsvector columns with a GIN index each: `search_vector`
(title weight A, keywords B, body C) for everything, `head_vector` (title A, keywords B) so
"matches in the name or keywords" is answered by its own index instead of rechecking the
weights of every row that mentions a word anywhere. Stored rather than expression indexes
because ranking reads the vector of every ranked row: recomputing to_tsvector costs some
30 µs a row, far too much when a common word matches thousands of items.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_FORWARD = [
    """
    CREATE VIRTUAL TABLE catalogue_search_fts USING fts5(
        title, keywords, body,
        content='catalogue_searchdocument', content_rowid='item_id',
        tokenize='unicode61'
    )
    """,
    """
    CREATE TRIGGER catalogue_search_fts_ai AFTER INSERT ON catalogue_searchdocument BEGIN
        INSERT INTO catalogue_search_fts(rowid, title, keywords, body)
        VALUES (new.item_id, new.title, new.keywords, new.body);
    END
    """,
    """
    CREATE TRIGGER catalogue_search_fts_ad AFTER DELETE ON catalogue_searchdocument BEGIN
        INSERT INTO catalogue_search_fts(catalogue_search_fts, rowid, title, keywords, body)
        VALUES ('delete', old.item_id, old.title, old.keywords, old.body);
    END
    """,
    """
    CREATE TRIGGER catalogue_search_fts_au AFTER UPDATE ON catalogue_searchdocument BEGIN
        INSERT INTO catalogue_search_fts(catalogue_search_fts, rowid, title, keywords, body)
        VALUES ('delete', old.item_id, old.title, old.keywords, old.body);
        INSERT INTO catalogue_search_fts(rowid, title, keywords, body)
        VALUES (new.item_id, new.title, new.keywords, new.body);
    END
    """,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS catalogue_search_fts_au",
    "DROP TRIGGER IF EXISTS catalogue_search_fts_ad",
    "DROP TRIGGER IF EXISTS catalogue_search_fts_ai",
    "DROP TABLE IF EXISTS catalogue_search_fts",
]

# The weights catalogue.search.PG_WEIGHTS expects: A title, B keywords, C body.
POSTGRESQL_FORWARD = [
    """
    ALTER TABLE catalogue_searchdocument ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, keywords), 'B')
        || setweight(to_tsvector('simple'::regconfig, body), 'C')
    ) STORED
    """,
    """
    ALTER TABLE catalogue_searchdocument ADD COLUMN head_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, keywords), 'B')
    ) STORED
    """,
    "CREATE INDEX catalogue_search_vector_gin ON catalogue_searchdocument USING gin (search_vector)",
    "CREATE INDEX catalogue_search_head_gin ON catalogue_searchdocument USING gin (head_vector)",
]

POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS catalogue_search_head_gin",
    "DROP INDEX IF EXISTS catalogue_search_vector_gin",
    "ALTER TABLE catalogue_searchdocument DROP COLUMN IF EXISTS head_vector",
    "ALTER TABLE catalogue_searchdocument DROP COLUMN IF EXISTS search_vector",
]


def _run(schema_editor, statements_by_vendor):
    for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def create_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRESQL_FORWARD})


def drop_index(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRESQL_BACKWARD})


class Migration(migrations.Migration):

    dependencies = [
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="catalogue.implementationitem",
                        verbose_name="事项",
                    ),
                ),
                ("title", models.TextField(blank=True, verbose_name="名称分词")),
                ("keywords", models.TextField(blank=True, verbose_name="关键词分词")),
                ("body", models.TextField(blank=True, verbose_name="正文分词")),
            ],
            options={
                "verbose_name": "检索文档",
                "verbose_name_plural": "检索文档",
            },
        ),
        migrations.RunPython(create_index, drop_index),
    ]
