"""A deployment's row, its revision's and the audit event that records the change, written in one statement.

The push writes twice per deployment (applying before the cluster is called, applied after). Through the ORM each
was a transaction of three statements: BEGIN, the UPDATEs, the event's INSERT, COMMIT, five round trips whose
compiling and waiting took about a third of the worker's CPU per push (bench_push). One data-modifying WITH
(PostgreSQL 15 docs, "WITH Queries", 7.8.4) writes the same rows atomically in one round trip: the event and the
other rows are written only when the deployment's UPDATE matched, as the compare-and-set it is.
"""

from django.db import connection

from audit.services import event_insert_sql


def _update_sql(model, values, where, *, condition=""):
    """UPDATE of `model`'s rows matching `where` ({field name: value, or name__isnull: bool}) and the SQL
    `condition`, setting `values`, RETURNING the key."""
    quote = connection.ops.quote_name
    meta = model._meta
    sets, params = [], []
    for name, value in values.items():
        field = meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    conditions = [condition] if condition else []
    for name, value in where.items():
        if name.endswith("__isnull"):
            conditions.append(f"{quote(meta.get_field(name.removesuffix('__isnull')).column)} IS "
                              f"{'' if value else 'NOT '}NULL")
            continue
        field = meta.get_field(name)
        conditions.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_value(value, connection))
    return (f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)} "
            f"RETURNING {quote(meta.pk.column)}"), params


def row_update_recorded(instance, values, *, event, where=None, also=()):
    """Set `values` on `instance`'s row (when it still matches `where`), write `event` (built with
    `audit.services.event_build`) and each `also` (model, values, where) update, all in one statement and only if
    the row matched. True when it did; the instance then holds the values."""
    pk = type(instance)._meta.pk.name
    sql, params = _update_sql(type(instance), values, {pk: instance.pk, **(where or {})})
    ctes = [f"done AS ({sql})"]
    for i, (model, more, more_where) in enumerate(also):
        sql, more_params = _update_sql(model, more, more_where, condition="EXISTS (SELECT FROM done)")
        ctes.append(f"also{i} AS ({sql})")
        params += more_params
    sql, event_params = event_insert_sql(event, source="done")
    ctes.append(f"event AS ({sql})")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT count(*) FROM done", params + event_params)
        matched = cursor.fetchone()[0] > 0
    if matched:
        for name, value in values.items():
            setattr(instance, name, value)
    return matched


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
    """INSERT unsaved instances in one statement (a WITH of INSERTs), each value prepared by its field as save()
    prepares it (defaults and auto_now_add included). An instance without a key gets the table's next one. Their
    foreign keys are checked when the transaction commits (Django creates them DEFERRABLE INITIALLY DEFERRED)."""
    quote = connection.ops.quote_name
    inserts, params = [], []
    for instance in instances:
        meta = instance._meta
        fields = [f for f in meta.concrete_fields if not (f.primary_key and instance.pk is None)]
        inserts.append(f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                       f"VALUES ({', '.join(['%s'] * len(fields))})")
        params += [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    *first, last = inserts
    sql = f"WITH {', '.join(f'row{n} AS ({sql})' for n, sql in enumerate(first))} {last}" if first else last
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
