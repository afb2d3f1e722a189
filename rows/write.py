"""Inserts and updates of model rows as SQL, each value prepared by its field as save() prepares it (defaults and
auto_now included), so that several can be written in one statement."""

from django.db import connection

from .read import condition_params, condition_sql


def update_sql(model, values, where, *, condition=""):
    """(sql, params): UPDATE of `model`'s rows matching `where` (as for rows.read.row_read) and the SQL
    `condition`, setting `values` ({field name: value}), RETURNING their keys."""
    quote, meta = connection.ops.quote_name, model._meta
    sets, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    conditions = [condition] if condition else []
    conditions += [condition_sql(model, name, value) for name, value in where.items()]
    return (f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)} "
            f"RETURNING {quote(meta.pk.column)}"), params + condition_params(model, where)


def _insert_values(instance):
    """The fields written for an unsaved instance (its key too when it has one) and their prepared values."""
    fields = [f for f in instance._meta.concrete_fields if not (f.primary_key and instance.pk is None)]
    return fields, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]


def insert_select_sql(instance, *, source):
    """(sql, params): an INSERT of the unsaved `instance` to chain in a WITH, one row for each row the CTE named
    `source` returned (none when it returned none): written exactly when the change `source` made was. Each
    value is cast to its column's type (in INSERT ... SELECT an untyped literal or NULL would be read as text)."""
    quote = connection.ops.quote_name
    fields, values = _insert_values(instance)
    columns = ", ".join(quote(f.column) for f in fields)
    casts = ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in fields)
    return f"INSERT INTO {quote(instance._meta.db_table)} ({columns}) SELECT {casts} FROM {source}", values


def keys_reserve(*instances):
    """Give unsaved instances their primary keys before they are written (one `nextval` of each table's sequence,
    one round trip), so that rows inserted in one statement can name one another."""
    quote = connection.ops.quote_name
    calls = ", ".join("nextval(pg_get_serial_sequence(%s, %s))" for _ in instances)
    params = [p for instance in instances for p in (quote(instance._meta.db_table), instance._meta.pk.column)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", params)
        for instance, key in zip(instances, cursor.fetchone(), strict=True):
            instance.pk = key


def rows_insert(*instances):
    """INSERT unsaved instances in one statement (a WITH of INSERTs). One without a key gets the table's next.
    Their foreign keys are checked when the transaction commits (Django creates them DEFERRABLE INITIALLY
    DEFERRED), so they may name one another (keys_reserve)."""
    quote = connection.ops.quote_name
    inserts, params = [], []
    for instance in instances:
        fields, values = _insert_values(instance)
        inserts.append(f"INSERT INTO {quote(instance._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                       f"VALUES ({', '.join(['%s'] * len(fields))})")
        params += values
    *first, last = inserts
    sql = f"WITH {', '.join(f'row{n} AS ({sql})' for n, sql in enumerate(first))} {last}" if first else last
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
