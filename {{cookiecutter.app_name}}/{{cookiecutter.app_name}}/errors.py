"""Errors answer in JSON, like the rest of the API, never with an HTML page."""

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


def register(app: Flask) -> None:
    # An unhandled exception reaches this handler as a 500 InternalServerError
    # after Flask has logged its traceback; the client learns nothing internal.
    app.register_error_handler(HTTPException, _http_error)


def _http_error(error: HTTPException) -> tuple[Response, int]:
    code = error.code or 500
    return jsonify(error=error.name, status=code, message=error.description), code
