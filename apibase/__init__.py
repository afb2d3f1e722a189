"""apibase: the house rules every app's api/ shares, at the bottom so that any app may use them.

The one error shape as OpenAPI describes it (schema.py: ErrorSerializer and the AutoSchema that
adds it to every operation) and the strict JSON parser (parsers.py). The handler that produces
the error shape is portal/api_errors.py.
"""
