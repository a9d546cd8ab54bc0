"""The error table: each error class answers with CloudStack's status, codes and envelope."""

from __future__ import annotations

import inspect
import sqlite3

import orjson
import psycopg
import pytest
from eventsourcing import persistence
from psycopg_pool import PoolTimeout

import domain.errors as domain_errors
from api.envelope import render
from api.errors import (
    AUTHENTICATION_FAILED_TEXT,
    ERROR_CODES,
    INTERNAL_ERROR_TEXT,
    UNAVAILABLE_TEXT,
    AuthenticationFailed,
    BadRequestParameter,
    RateLimited,
    UnknownCommand,
    error_body,
)
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


@pytest.mark.parametrize(
    ("error_class", "status", "cs_error_code"),
    [
        (InvalidParameter, 431, 4350),
        (NotFound, 431, 4350),
        (InvalidState, 431, 4350),
        (BadRequestParameter, 431, 9999),
        (PermissionDenied, 531, 4365),
        (InsufficientCapacity, 533, 4325),
        (ResourceUnavailable, 534, 4380),
        (ResourceAllocationFailed, 535, 4370),
        (ResourceInUse, 536, 4375),
        (NetworkRuleConflict, 537, 4360),
        (ConcurrencyConflict, 530, 4300),
        (DomainError, 530, 4250),
    ],
)
def test_domain_errors_answer_with_cloudstacks_codes_and_their_own_message(
    error_class, status, cs_error_code
):
    answer_status, body = error_body("stopVirtualMachine", error_class("VM is busy"))
    assert answer_status == status
    assert body == {
        "stopvirtualmachineresponse": {
            "uuidList": [],
            "errorcode": status,
            "cserrorcode": cs_error_code,
            "errortext": "VM is busy",
        }
    }


def test_every_domain_error_class_has_its_own_row():
    # A new domain error must be placed in the table on purpose, not inherit a code by accident.
    classes = [
        cls
        for _, cls in inspect.getmembers(domain_errors, inspect.isclass)
        if issubclass(cls, DomainError)
    ]
    assert classes
    assert [cls.__name__ for cls in classes if cls not in ERROR_CODES] == []


def test_unexpected_exception_answers_530_without_internals():
    error = RuntimeError("psycopg: password authentication failed for user stratus at 10.0.0.5")
    status, body = error_body("listHosts", error)
    assert status == 530
    assert body["listhostsresponse"]["errortext"] == INTERNAL_ERROR_TEXT
    assert body["listhostsresponse"]["cserrorcode"] == 9999
    assert b"password" not in render(body)
    assert b"10.0.0.5" not in render(body)


def test_resource_ids_are_listed_in_uuid_list():
    error = ResourceInUse("network in use", resource_ids=("a-1", "b-2"))
    _, body = error_body("deleteNetwork", error)
    assert body["deletenetworkresponse"]["uuidList"] == [{"uuid": "a-1"}, {"uuid": "b-2"}]


def test_authentication_failure_answers_401_with_the_fixed_text_only():
    status, body = error_body("listZones", AuthenticationFailed("signature does not match"))
    assert status == 401
    # CloudStack's servlet writes this body itself, without a cserrorcode.
    assert body == {
        "listzonesresponse": {
            "uuidList": [],
            "errorcode": 401,
            "errortext": "unable to verify user credentials and/or request signature",
        }
    }
    assert body["listzonesresponse"]["errortext"] == AUTHENTICATION_FAILED_TEXT


def test_unknown_command_answers_432_under_errorresponse():
    status, body = error_body("fooBar", UnknownCommand("fooBar"))
    assert status == 432
    assert set(body) == {"errorresponse"}
    assert body["errorresponse"]["errorcode"] == 432
    assert "does not exist" in body["errorresponse"]["errortext"]


@pytest.mark.parametrize("command", [None, ""])
def test_error_without_a_command_goes_under_errorresponse(command):
    status, body = error_body(command, AuthenticationFailed("no apikey"))
    assert status == 401
    assert set(body) == {"errorresponse"}


def test_rate_limit_answers_429():
    status, body = error_body("listHosts", RateLimited("account 7 made 501 calls"))
    assert status == 429
    assert body["listhostsresponse"]["cserrorcode"] == 4545
    assert "501" not in body["listhostsresponse"]["errortext"]


def test_response_key_follows_cloudstacks_renamed_commands():
    _, body = error_body("scaleSystemVm", InvalidState("running"))
    assert set(body) == {"changeserviceforsystemvmresponse"}


def test_no_error_is_answered_with_a_success_status():
    for error_class in ERROR_CODES:
        status, body = error_body("listHosts", error_class("x"))
        assert status >= 400
        assert orjson.loads(render(body))


@pytest.mark.parametrize(
    "outage",
    [
        persistence.OperationalError("connection refused"),
        persistence.InterfaceError("connection already closed"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        PoolTimeout("couldn't get a connection after 30.00 sec"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_a_database_outage_answers_503_to_retry_not_an_internal_error(outage):
    status, body = error_body("deployVirtualMachine", outage)
    assert status == 503
    answer = body["deployvirtualmachineresponse"]
    assert (answer["errorcode"], answer["cserrorcode"]) == (503, 4380)
    assert answer["errortext"] == UNAVAILABLE_TEXT
    assert str(outage) not in answer["errortext"]
