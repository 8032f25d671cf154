"""`hall serve`: the hall as an authenticated HTTP service (issue 16).

`app.make_app` builds the Starlette application: the same Engine methods the command line calls,
each request acting as the user its bearer token belongs to, errors as RFC 9457 problem documents
(`problems`), the OpenAPI document of `openapi`. No click here: `hall serve` in cli.py runs it.
"""
