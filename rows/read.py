"""Rows of a model with the rows their foreign keys name, read in one statement whose SQL is built once."""

from functools import cache

from django.db import connection


def condition_sql(model, name, value, alias=""):
    """SQL for the lookup `name` (a field name: equal to %s, its value a parameter; name__in: one of the values, an
    array parameter; or name__isnull: `value` says which) on `model`'s table (aliased `alias`)."""
    quote, prefix = connection.ops.quote_name, f"{alias}." if alias else ""
    if name.endswith("__isnull"):
        column = model._meta.get_field(name.removesuffix("__isnull")).column
        return f"{prefix}{quote(column)} IS {'' if value else 'NOT '}NULL"
    if name.endswith("__in"):
        return f"{prefix}{quote(model._meta.get_field(name.removesuffix('__in')).column)} = ANY(%s)"
    return f"{prefix}{quote(model._meta.get_field(name).column)} = %s"


def condition_params(model, where):
    """The parameters of `where`'s conditions (condition_sql), each prepared by its field."""
    params = []
    for name, value in where.items():
        if name.endswith("__in"):
            field = model._meta.get_field(name.removesuffix("__in"))
            params.append([field.get_db_prep_value(v, connection) for v in value])
        elif not name.endswith("__isnull"):
            params.append(model._meta.get_field(name).get_db_prep_value(value, connection))
    return params


def _shape(where):
    """What of `where` decides its SQL: the names, and the value of an __isnull."""
    return tuple((name, bool(value) if name.endswith("__isnull") else None) for name, value in where.items())


@cache
def _read_plan(model, where, related, extra, omit=(), tail="LIMIT 2"):
    """The SQL reading rows of `model` matching `where` (its _shape) with the rows their `related` foreign keys name
    (LEFT JOINs), less the `omit` ((foreign key name, field name), ...) fields, and the `extra` ((name, SQL), ...)
    values, ended by `tail`; and for each model its fields with their converters (a JSON column arrives as text)."""
    quote = connection.ops.quote_name
    parts, joins = [(model, None, "r0")], []
    for n, name in enumerate(related, 1):
        field = model._meta.get_field(name)
        target = field.related_model._meta
        joins.append(f"LEFT JOIN {quote(target.db_table)} r{n} ON r{n}.{quote(target.pk.column)} = "
                     f"r0.{quote(field.column)}")
        parts.append((field.related_model, field, f"r{n}"))
    fields = [[f for f in m._meta.concrete_fields if (via.name if via else None, f.name) not in omit]
              for m, via, _ in parts]
    columns = ", ".join([f"{alias}.{quote(f.column)}" for (_, _, alias), fs in zip(parts, fields) for f in fs]
                        + [f"({sql}) AS {quote(name)}" for name, sql in extra])
    conditions = " AND ".join(condition_sql(model, name, value, "r0") for name, value in where)
    sql = f"SELECT {columns} FROM {quote(model._meta.db_table)} r0 {' '.join(joins)} WHERE {conditions} {tail}"
    plan = [(m, via, [f.attname for f in fs], fs.index(m._meta.pk),
             [(f.get_db_converters(connection), f.get_col(alias)) for f in fs])
            for (m, via, alias), fs in zip(parts, fields)]
    return sql, plan


def _instances(row, plan):
    """The row's instance of the model read, with its related instances set on it; and the values after them."""
    instances, at = [], 0
    for m, via, names, pk_index, converters in plan:
        values = list(row[at:at + len(names)])
        at += len(names)
        for i, (functions, col) in enumerate(converters):
            for function in functions:
                values[i] = function(values[i], col, connection)
        instance = None if values[pk_index] is None else m.from_db(connection.alias, names, values)
        if via is not None:
            via.set_cached_value(instances[0], instance)
        instances.append(instance)
    return instances[0], row[at:]


def row_read(model, where, related=(), extra=None):
    """The instance of `model` matching `where` ({field name: value, name__in: values, or name__isnull: bool}),
    None if no row does, with the instances its `related` foreign keys name in place (None where the key is null),
    as `select_related(*related).get(**where)` gives them: MultipleObjectsReturned when several rows match.

    `extra`: {attribute: (SQL of a scalar subquery, params)} set on the instance, as `annotate` would; the
    subquery names the row's table `r0`."""
    extra = extra or {}
    sql, plan = _read_plan(model, _shape(where), tuple(related), tuple((k, q) for k, (q, _) in extra.items()))
    params = [p for _, params in extra.values() for p in params] + condition_params(model, where)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) > 1:
        raise model.MultipleObjectsReturned(f"more than one {model.__name__} matches {where}")
    if not rows:
        return None
    instance, values = _instances(rows[0], plan)
    for name, value in zip(extra, values):
        setattr(instance, name, value)
    return instance


def rows_read(model, where, related=(), *, omit=(), lock=False):
    """The instances of `model` matching `where` (as for row_read), by key, each with its `related` instances in
    place, as `select_related(*related).defer(...).filter(**where).order_by("pk")` gives them; `omit`: (foreign
    key name, field name) pairs of the related rows left deferred (read on first use, as defer() does).
    lock=True: the rows of `model` (not the related ones) locked FOR NO KEY UPDATE, in key order, as
    `select_for_update(of=("self",), no_key=True)` locks them."""
    tail = f"ORDER BY r0.{connection.ops.quote_name(model._meta.pk.column)}" + (
        " FOR NO KEY UPDATE OF r0" if lock else "")
    sql, plan = _read_plan(model, _shape(where), tuple(related), (), tuple(omit), tail)
    with connection.cursor() as cursor:
        cursor.execute(sql, condition_params(model, where))
        return [_instances(row, plan)[0] for row in cursor.fetchall()]
