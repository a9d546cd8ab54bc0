"""CloudStack's error wire format: the one table from error classes to HTTP status and codes.

Every error a request can end with is translated here, once, into CloudStack's ExceptionResponse:
``{"<cmd>response": {"uuidList": [...], "errorcode": N, "cserrorcode": M, "errortext": "..."}}``
where N is also the HTTP status.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import psycopg
from eventsourcing import persistence

from api.envelope import response_key
from domain.errors import (
    ConcurrencyConflict,
    DomainError,
    InsufficientCapacity,
    InvalidParameter,
    InvalidState,
    NetworkRuleConflict,
    NotFound,
    PermissionDenied,
    ResourceAllocationFailed,
    ResourceInUse,
    ResourceUnavailable,
)

AUTHENTICATION_FAILED_TEXT = "unable to verify user credentials and/or request signature"
UNKNOWN_COMMAND_TEXT = "The given command does not exist or it is not available for user"
RATE_LIMITED_TEXT = "There are too many API requests from this account; try again later"
INTERNAL_ERROR_TEXT = "Internal error executing command, please contact your system administrator"
UNAVAILABLE_TEXT = "The service is briefly unavailable (its database cannot be reached); try again"


class ApiError(Exception):
    """An error the wire layer itself raises, before or around any command."""


class AuthenticationFailed(ApiError):
    """The API key, signature, expiry or session did not verify.

    The message is the reason, for the server log only: the client always gets the same text,
    so a caller cannot learn which part of its credentials was wrong.
    """


class LoginFailed(AuthenticationFailed):
    """A login with an unknown user, a wrong password or a disabled account."""


LOGIN_FAILED_TEXT = "failed to authenticate user, check if username/password are correct"


class UnknownCommand(ApiError):
    """The `command` parameter names no command this server offers."""


class CommandNotAvailable(ApiError):
    """The command exists but not for the caller's role (4.3's per-command role bitmask): it is
    answered as 4.3 answers it, 432 with the same text as an unknown command, under the
    command's own response key."""


class RateLimited(ApiError):
    """The caller exceeded its API request limit."""


class ApiLimitReached(DomainError):
    """The caller's account issued as many requests as api.throttling.max allows this interval
    (its text, which says when to retry, is the client's to see)."""


class BadRequestParameter(InvalidParameter):
    """A parameter failed validation before the command ran.

    CloudStack raises these as a bare ServerApiException (cserrorcode 9999), unlike the
    InvalidParameterValueException (4350) that commands raise, so they get their own row.
    """


@dataclass(frozen=True)
class ErrorCode:
    """How one error class appears on the wire."""

    status: int
    cs_error_code: int | None  # None: CloudStack's servlet writes no cserrorcode (401)


OUTAGE = ErrorCode(503, 4380)

# Looked up along the error's MRO, so the most specific class wins; keep subclasses listed
# (BadRequestParameter, NotFound) even where they repeat their parent, to make the table the
# single place a reader checks.
ERROR_CODES: dict[type[BaseException], ErrorCode] = {
    BadRequestParameter: ErrorCode(431, 9999),
    NotFound: ErrorCode(431, 4350),
    InvalidParameter: ErrorCode(431, 4350),
    # CloudStack refuses wrong-state requests with InvalidParameterValueException.
    InvalidState: ErrorCode(431, 4350),
    PermissionDenied: ErrorCode(531, 4365),
    InsufficientCapacity: ErrorCode(533, 4325),
    ResourceUnavailable: ErrorCode(534, 4380),
    ResourceAllocationFailed: ErrorCode(535, 4370),
    ResourceInUse: ErrorCode(536, 4375),
    NetworkRuleConflict: ErrorCode(537, 4360),
    # CloudStack lets ConcurrentOperationException fall through to INTERNAL_ERROR; 530 also tells
    # clients the request itself was fine and may be retried, which 431 would deny.
    ConcurrencyConflict: ErrorCode(530, 4300),
    # A domain error nobody classified: still our own, safe message (CloudRuntimeException).
    DomainError: ErrorCode(530, 4250),
    # The database could not be reached, or a lock not had, even after the store's own
    # retries: nothing was refused, so the client is told to come back (HTTP 503, which
    # CloudStack never answers otherwise, so a client can tell it from a refusal).
    persistence.OperationalError: OUTAGE,
    persistence.InterfaceError: OUTAGE,
    psycopg.OperationalError: OUTAGE,
    psycopg.InterfaceError: OUTAGE,
    sqlite3.OperationalError: OUTAGE,
    AuthenticationFailed: ErrorCode(401, None),
    UnknownCommand: ErrorCode(432, 9999),
    CommandNotAvailable: ErrorCode(432, 9999),
    RateLimited: ErrorCode(429, 4545),
    ApiLimitReached: ErrorCode(429, 4545),
}

UNEXPECTED = ErrorCode(530, 9999)

# Errors whose wire text is fixed whatever message they were raised with.
_FIXED_TEXTS: dict[type[BaseException], str] = {
    LoginFailed: LOGIN_FAILED_TEXT,
    AuthenticationFailed: AUTHENTICATION_FAILED_TEXT,
    UnknownCommand: UNKNOWN_COMMAND_TEXT,
    CommandNotAvailable: UNKNOWN_COMMAND_TEXT,
    RateLimited: RATE_LIMITED_TEXT,
    persistence.OperationalError: UNAVAILABLE_TEXT,
    persistence.InterfaceError: UNAVAILABLE_TEXT,
    psycopg.OperationalError: UNAVAILABLE_TEXT,
    psycopg.InterfaceError: UNAVAILABLE_TEXT,
    sqlite3.OperationalError: UNAVAILABLE_TEXT,
}


def error_code(error: BaseException) -> ErrorCode:
    """The wire codes for `error`; anything not in the table is an unexpected internal error."""
    for cls in type(error).__mro__:
        code = ERROR_CODES.get(cls)
        if code is not None:
            return code
    return UNEXPECTED


def error_text(error: BaseException) -> str:
    """The errortext a client may see: never an internal exception's message or traceback."""
    for cls in type(error).__mro__:
        if cls in _FIXED_TEXTS:
            return _FIXED_TEXTS[cls]
    if isinstance(error, DomainError):
        return error.message
    return INTERNAL_ERROR_TEXT


def error_body(command: str | None, error: BaseException) -> tuple[int, dict]:
    """The HTTP status and JSON body for `error` answering `command`.

    Pass ``command=None`` when the request named no command or one this server does not know:
    the envelope key is then ``errorresponse``, as it always is for an unknown command.
    """
    code = error_code(error)
    known = command and not isinstance(error, UnknownCommand)
    key = response_key(command) if known else "errorresponse"
    resource_ids = error.resource_ids if isinstance(error, DomainError) else ()
    body: dict = {"uuidList": [{"uuid": rid} for rid in resource_ids], "errorcode": code.status}
    if code.cs_error_code is not None:
        body["cserrorcode"] = code.cs_error_code
    body["errortext"] = error_text(error)
    return code.status, {key: body}
