"""Inserts and updates of model rows as SQL, each value prepared by its field as save() prepares it (defaults and
auto_now included), so that several can be written in one statement."""

from functools import cache

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


@cache
def _casts(model):
    """{field: SQL casting a parameter to the field's column type}: in INSERT ... SELECT an untyped literal or NULL
    would be read as text. Once per model: Django works the type out anew at each call (a third of an insert's
    CPU when it did it per row)."""
    return {f: f"CAST(%s AS {f.cast_db_type(connection)})" for f in model._meta.concrete_fields}


@cache
def _insert_select_sql(model, fields, source):
    quote, casts = connection.ops.quote_name, _casts(model)
    return (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"SELECT {', '.join(casts[f] for f in fields)} FROM {source}")


def insert_select_sql(instance, *, source):
    """(sql, params): an INSERT of the unsaved `instance` to chain in a WITH, one row for each row the CTE named
    `source` returned (none when it returned none): written exactly when the change `source` made was."""
    fields, values = _insert_values(instance)
    return _insert_select_sql(type(instance), tuple(fields), source), values


def _key_slot(instance, field, numbers):
    """The number of the unsaved instance whose new key `field` takes: the instance's own when it is its unsaved
    primary key, another's when it is a foreign key naming that instance; else None."""
    if field.primary_key:
        return numbers.get(id(instance)) if instance.pk is None else None
    if field.many_to_one and field.is_cached(instance):
        return numbers.get(id(field.get_cached_value(instance)))
    return None


@cache
def _rows_insert_sql(shape):
    """The statement of rows_insert for instances of `shape`: ((model, (slot or None for each concrete field)),
    ...), the slots numbering the unsaved instances whose keys the statement takes."""
    quote = connection.ops.quote_name
    unsaved = sorted({slot for _, slots in shape for slot in slots if slot is not None})
    keys = ", ".join(f"nextval(pg_get_serial_sequence(%s, %s)) AS k{n}" for n in unsaved) or "1 AS none"
    inserts = []
    for n, (model, slots) in enumerate(shape):
        casts = _casts(model)
        values = [casts[f] if slot is None else f"keys.k{slot}" for f, slot in zip(model._meta.concrete_fields, slots)]
        inserts.append(f"row{n} AS (INSERT INTO {quote(model._meta.db_table)} "
                       f"({', '.join(quote(f.column) for f in model._meta.concrete_fields)}) "
                       f"SELECT {', '.join(values)} FROM keys)")
    return f"WITH keys AS MATERIALIZED (SELECT {keys}), {', '.join(inserts)} SELECT * FROM keys"


def rows_insert(*instances):
    """INSERT unsaved instances in one statement (a WITH of INSERTs), so they may name one another: one without
    a key takes the next of its table's sequence in that statement (a MATERIALIZED CTE, read once), and a
    foreign key naming such an instance (deployment.current_revision = revision) takes that same key. The keys
    are set on the instances afterwards. The foreign keys are checked when the transaction commits (Django
    creates them DEFERRABLE INITIALLY DEFERRED), whatever order the rows go in."""
    quote = connection.ops.quote_name
    unsaved = [instance for instance in instances if instance.pk is None]
    numbers = {id(instance): n for n, instance in enumerate(unsaved)}
    shape = tuple((type(instance), tuple(_key_slot(instance, f, numbers) for f in instance._meta.concrete_fields))
                  for instance in instances)
    params = [p for instance in unsaved for p in (quote(instance._meta.db_table), instance._meta.pk.column)]
    naming = []  # (instance, foreign key, the instance it names): set again once the keys are known
    for instance, (model, slots) in zip(instances, shape):
        for field, slot in zip(model._meta.concrete_fields, slots):
            if slot is None:
                params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
            elif not field.primary_key:
                naming.append((instance, field, unsaved[slot]))
    with connection.cursor() as cursor:
        cursor.execute(_rows_insert_sql(shape), params)
        keys = cursor.fetchone()
    for instance, key in zip(unsaved, keys):
        instance.pk = key
    for instance, field, named in naming:
        setattr(instance, field.name, named)  # the key column and the instance kept in place (no query to read it)
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
