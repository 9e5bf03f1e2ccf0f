"""JSON errors in the shape PostgREST answers with, carrying the same stable codes as the RPCs.

Body: {"code": "PT404", "message": "not_found", "details": "...", "hint": null}. As in
PostgREST, `code` is the SQLSTATE (PT + HTTP status for registered codes) and `message`
is the stable code a frontend switches on (supabase-js: error.message).
"""

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("edge_api")


class ErrorBody(BaseModel):
    """An error, as PostgREST and supabase-js report it."""

    code: str  # SQLSTATE, e.g. PT404
    message: str  # the stable code, e.g. not_found (docs/errors.md)
    details: str | None = None
    hint: str | None = None


class ApiError(Exception):
    """An error edge_api answers itself (before or instead of SQL)."""

    def __init__(
        self, status: int, code: str, details: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.details = details
        self.headers = headers


def error_response(
    status: int,
    code: str,
    details: str | None = None,
    *,
    sqlstate: str | None = None,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=sqlstate or f"PT{status}", message=code, details=details, hint=hint)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


# SQLSTATEs that are not registered codes, mapped as PostgREST maps them.
_SQLSTATE_STATUS = {"23503": 409, "23505": 409, "42501": 403}
_SQLSTATE_CLASS_STATUS = {"22": 400, "23": 400}


def status_for_sqlstate(sqlstate: str) -> int | None:
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    return _SQLSTATE_STATUS.get(sqlstate) or _SQLSTATE_CLASS_STATUS.get(sqlstate[:2])


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.details, headers=exc.headers)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, psycopg.Error)
    sqlstate = exc.sqlstate or ""
    status = status_for_sqlstate(sqlstate)
    if isinstance(exc, psycopg.errors.QueryCanceled):
        log.warning("statement timeout on %s: %s", request.url.path, exc)
        return error_response(503, "unavailable", "The database did not answer in time; try again shortly.")
    if isinstance(exc, psycopg.OperationalError) and status is None:
        log.warning("database unavailable on %s: %s", request.url.path, exc)
        return error_response(503, "unavailable", "The database is not reachable; try again shortly.")
    if status is None:
        log.error("database error on %s", request.url.path, exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side.")
    return error_response(
        status,
        exc.diag.message_primary or sqlstate,
        exc.diag.message_detail,
        sqlstate=sqlstate,
        hint=exc.diag.message_hint,
    )


async def _pool_timeout(request: Request, exc: Exception) -> JSONResponse:
    log.warning("no database connection for %s: %s", request.url.path, exc)
    return error_response(503, "unavailable", "The database is not reachable; try again shortly.")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:]) or error['loc'][0]}: {error['msg']}"
        for error in exc.errors()
    )
    return error_response(400, "invalid_parameter", problems or None)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(
        exc.status_code, "internal_error" if exc.status_code >= 500 else "invalid_parameter"
    )
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(psycopg.Error, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "invalid_parameter: a parameter is missing or malformed"},
    401: {"model": ErrorBody, "description": "not_authenticated (no token) or invalid_token"},
    404: {"model": ErrorBody, "description": "not_found: no such workspace, or not a member of it"},
    503: {"model": ErrorBody, "description": "unavailable: the database is not reachable"},
}
