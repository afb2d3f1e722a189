"""A deployment's row, its revision's and the audit event that records the change, written in one statement.

The push writes twice per deployment (applying before the cluster is called, applied after). Through the ORM each
was a transaction of three statements: BEGIN, the UPDATEs, the event's INSERT, COMMIT, five round trips whose
building and waiting took about a third of the worker's CPU per push (bench_push). One data-modifying WITH
(rows/) writes the same rows atomically in one round trip: the event and the other rows are written only when
the deployment's UPDATE matched, as the compare-and-set it is.
"""

from django.db import connection

from rows.write import insert_select_sql, update_sql


def row_update_recorded(instance, values, *, event, where=None, also=()):
    """Set `values` on `instance`'s row (when it still matches `where`), write `event` (built with
    `audit.services.event_build`) and each `also` (model, values, where) update, all in one statement and only if
    the row matched. True when it did; the instance then holds the values."""
    sql, params = update_sql(type(instance), values, {type(instance)._meta.pk.name: instance.pk, **(where or {})})
    ctes = [f"done AS ({sql})"]
    for i, (model, more, more_where) in enumerate(also):
        sql, more_params = update_sql(model, more, more_where, condition="EXISTS (SELECT FROM done)")
        ctes.append(f"also{i} AS ({sql})")
        params += more_params
    sql, event_params = insert_select_sql(event, source="done")
    ctes.append(f"event AS ({sql})")
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT count(*) FROM done", params + event_params)
        matched = cursor.fetchone()[0] > 0
    if matched:
        for name, value in values.items():
            setattr(instance, name, value)
    return matched
