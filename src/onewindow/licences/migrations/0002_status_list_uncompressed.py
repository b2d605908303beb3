"""Status lists stored uncompressed on PostgreSQL.

A verification reads one byte of each list with SUBSTR. PostgreSQL compresses wide bytea values
by default, and a byte of a compressed value can only be had by decompressing everything before
it: for a million licences about 0.1 ms per list and verification, growing with the list.
Stored out of line uncompressed (STORAGE EXTERNAL), SUBSTR fetches the one chunk that holds the
byte, whatever the length. The lists already stored are rewritten so they are stored that way.
"""

from django.db import migrations

COLUMNS = ("revoked_bits", "suspended_bits")


def store_uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(
        apps.get_model("licences", "StatusList")._meta.db_table
    )
    for column in COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL"
        )
    # Concatenation makes new values, which are then stored under the new storage.
    rewrite = ", ".join(f"{column} = {column} || ''::bytea" for column in COLUMNS)
    schema_editor.execute(f"UPDATE {table} SET {rewrite}")


def store_compressed(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(
        apps.get_model("licences", "StatusList")._meta.db_table
    )
    for column in COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTENDED"
        )


class Migration(migrations.Migration):
    dependencies = [("licences", "0001_initial")]

    operations = [migrations.RunPython(store_uncompressed, store_compressed)]
