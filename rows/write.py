"""Inserts and updates of model rows as SQL, each value prepared by its field as save() prepares it (defaults and
auto_now included), so that several can be written in one statement."""

import json
from decimal import Decimal
from functools import cache

import orjson
from django.db import connection
from psycopg.types.json import Jsonb

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
    ...), the slots numbering the unsaved instances whose keys the statement takes. Each row's other values come
    as one JSON parameter read as the table's row type (jsonb_populate_record, PostgreSQL 15 docs, 9.16.
    "JSON Functions": a JSON string goes through the column type's input function, an array becomes a
    PostgreSQL array, a value for a json/jsonb column is kept as it is). One parameter a row, not one a
    column: psycopg 3.3 converts a statement of more than 50 parameters, or of more than 4,096 characters, anew
    on every call (psycopg/_queries.py, MAX_CACHED_STATEMENT_PARAMS); with the 61 a create had, its insert took
    0.80 ms of CPU, 0.53 ms this way."""
    quote = connection.ops.quote_name
    unsaved = sorted({slot for _, slots in shape for slot in slots if slot is not None})
    keys = ", ".join(f"nextval(pg_get_serial_sequence(%s, %s)) AS k{n}" for n in unsaved) or "1 AS none"
    inserts = []
    for n, (model, slots) in enumerate(shape):
        table, fields = quote(model._meta.db_table), model._meta.concrete_fields
        taken = ", ".join(f"'{f.column}', keys.k{slot}" for f, slot in zip(fields, slots) if slot is not None)
        row = f"%s::jsonb || jsonb_build_object({taken})" if taken else "%s::jsonb"
        # No column lists: the record has the table's own columns, in its order (its model's fields, every one
        # in the JSON); the statement stays under the 4,096 characters psycopg caches the conversion of.
        inserts.append(f"row{n} AS (INSERT INTO {table} SELECT r.* FROM keys, "
                       f"jsonb_populate_record(NULL::{table}, {row}) AS r)")
    return f"WITH keys AS MATERIALIZED (SELECT {keys}), {', '.join(inserts)} SELECT * FROM keys"


def _json_default(value):
    """What orjson cannot write of the values fields prepare for psycopg: a JSONField's (written by its own
    encoder, as psycopg would) and a Decimal (as a string: exact, read by numeric's input function)."""
    if isinstance(value, Jsonb):
        return orjson.Fragment((value.dumps or json.dumps)(value.obj))
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"rows_insert cannot write a {type(value).__name__} as JSON; insert this row with the ORM")


def _row_json(values):
    """{column: prepared value} as the JSON text of one row."""
    return orjson.dumps(values, default=_json_default).decode()


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
        values = {}
        for field, slot in zip(model._meta.concrete_fields, slots):
            if slot is None:
                values[field.column] = field.get_db_prep_save(field.pre_save(instance, True), connection)
            elif not field.primary_key:
                naming.append((instance, field, unsaved[slot]))
        params.append(_row_json(values))
    with connection.cursor() as cursor:
        cursor.execute(_rows_insert_sql(shape), params)
        keys = cursor.fetchone()
    for instance, key in zip(unsaved, keys):
        instance.pk = key
    for instance, field, named in naming:
        setattr(instance, field.name, named)  # the key column and the instance kept in place (no query to read it)
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
