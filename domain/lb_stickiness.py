"""The stickiness methods a virtual router's load balancer offers (haproxy's, as CloudStack 4.3's
VirtualRouter provider lists them in its Lb capabilities) and the checks a policy passes before
it is recorded: the method, its parameters, and the formats haproxy needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import InvalidParameter


@dataclass(frozen=True)
class MethodParam:
    name: str
    required: bool
    description: str
    is_flag: bool


@dataclass(frozen=True)
class StickinessMethod:
    name: str
    description: str
    params: tuple[MethodParam, ...]


METHODS = (
    StickinessMethod(
        "LbCookie",
        "This is loadbalancer cookie based stickiness method.",
        (
            MethodParam(
                "cookie-name",
                False,
                "Cookie name passed in http header by the LB to the client.",
                False,
            ),
            MethodParam(
                "mode",
                False,
                "Valid values: insert, rewrite, prefix. Default value: insert.  In the insert "
                "mode cookie will be created by the LB. In other modes, cookie will be created "
                "by the server and LB modifies it.",
                False,
            ),
            MethodParam(
                "nocache",
                False,
                "This option is recommended in conjunction with the insert mode when there is a "
                "cache between the client and HAProxy, as it ensures that a cacheable response "
                "will be tagged non-cacheable if a cookie needs to be inserted.",
                True,
            ),
            MethodParam(
                "indirect",
                False,
                "When this option is specified in insert mode, cookies will only be added when "
                "the server was not reached after a direct access.",
                True,
            ),
            MethodParam(
                "postonly",
                False,
                "This option ensures that cookie insertion will only be performed on responses "
                "to POST requests.",
                True,
            ),
            MethodParam(
                "domain",
                False,
                "This option allows to specify the domain at which a cookie is inserted.",
                False,
            ),
        ),
    ),
    StickinessMethod(
        "AppCookie",
        "This is App session based sticky method. Define session stickiness on an existing "
        "application cookie. It can be used only for a specific http traffic",
        (
            MethodParam(
                "cookie-name",
                False,
                "This is the name of the cookie used by the application and which LB will have "
                "to learn for each new session. Default value: Auto geneared based on ip",
                False,
            ),
            MethodParam(
                "length",
                False,
                "This is the max number of characters that will be memorized and checked in "
                "each cookie value. Default value:52",
                False,
            ),
            MethodParam(
                "holdtime",
                False,
                "This is the time after which the cookie will be removed from memory if "
                "unused. The value should be in the format Example : 20s or 30m  or 4h or 5d . "
                "only seconds(s), minutes(m) hours(h) and days(d) are valid , cannot use "
                "combinations like 20h30m. Default value:3h ",
                False,
            ),
            MethodParam(
                "request-learn",
                False,
                "If this option is specified, then haproxy will be able to learn the cookie "
                "found in the request in case the server does not specify any in response.",
                True,
            ),
            MethodParam(
                "prefix",
                False,
                "When this option is specified, haproxy will match on the cookie prefix (or URL "
                "parameter prefix).",
                True,
            ),
            MethodParam(
                "mode",
                False,
                "This option allows to change the URL parser mode. 2 modes are currently "
                "supported : - path-parameters : The parser looks for the appsession in the "
                "path parameters part (each parameter is separated by a semi-colon), which is "
                "convenient for JSESSIONID for example. This is the default mode if the option "
                "is not set. - query-string : In this mode, the parser will look for the "
                "appsession in the query string.",
                False,
            ),
        ),
    ),
    StickinessMethod(
        "SourceBased",
        "This is source based Stickiness method, it can be used for any type of protocol.",
        (
            MethodParam(
                "tablesize",
                False,
                "Size of table to store source ip addresses. example: tablesize=200k or 300m or "
                "400g. Default value:200k",
                False,
            ),
            MethodParam(
                "expire",
                False,
                "Entry in source ip table will expire after expire duration. units can be "
                "s,m,h,d . example: expire=30m 20s 50h 4d. Default value:3h",
                False,
            ),
        ),
    ),
)


def capability_text() -> str:
    """The `SupportedStickinessMethods` capability value, as 4.3 lists it (JSON)."""
    return json.dumps(
        [
            {
                "methodname": m.name,
                "paramlist": [
                    {
                        "paramname": p.name,
                        "required": p.required,
                        "isflag": p.is_flag,
                        "description": p.description,
                    }
                    for p in m.params
                ],
                "description": m.description,
            }
            for m in METHODS
        ]
    )


def _number_with(value: str, units: str) -> bool:
    return re.fullmatch(rf"[0-9]+[{units}]?" if units else "[0-9]+", value) is not None


def check_policy(
    rule_id: str, method_name: str, given: Iterable[tuple[str, str]]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The method's own name and the parameters as (name, value) pairs, refused (431) as 4.3
    refuses: an unknown method or parameter, a missing value, a bad size or duration."""
    method = next((m for m in METHODS if m.name.lower() == method_name.strip().lower()), None)
    if method is None:
        raise InvalidParameter(f"Failed to match Stickiness method name for LB rule:{rule_id}")
    known = {p.name: p for p in method.params}
    pairs: list[tuple[str, str]] = []
    for name, value in given:
        spec = known.get(name.strip().lower())
        if spec is None:
            raise InvalidParameter(
                f"Failed to create Stickiness policy: parameter {name} is not supported for "
                f"the method {method.name}"
            )
        if not spec.is_flag and not value.strip():
            raise InvalidParameter(
                f"Failed to validate Stickiness policy, parameter {name} value should be specified"
            )
        pairs.append((spec.name, value.strip()))
    for spec in method.params:
        if spec.required and spec.name not in dict(pairs):
            raise InvalidParameter(
                f"Failed to create Stickiness policy: required parameter {spec.name} is missing"
            )
    _check_formats(rule_id, method.name, dict(pairs))
    return method.name, tuple(pairs)


def _check_formats(rule_id: str, method: str, params: dict[str, str]) -> None:
    cause = f"Failed LB in validation rule id: {rule_id} Cause: "
    if method == "SourceBased":
        if "expire" in params and not _number_with(params["expire"], "dhms"):
            raise InvalidParameter(f"{cause}expire is not in timeformat: {params['expire']}")
        if "tablesize" in params and not _number_with(params["tablesize"], "kmg"):
            raise InvalidParameter(f"{cause}tablesize is not in size format: {params['tablesize']}")
    elif method == "AppCookie":
        if "length" in params and not _number_with(params["length"], ""):
            raise InvalidParameter(f"{cause}length is not a number: {params['length']}")
        if "holdtime" in params and not _number_with(params["holdtime"], "dhms"):
            raise InvalidParameter(f"{cause}holdtime is not in timeformat: {params['holdtime']}")
    elif method == "LbCookie" and params.get("mode", "insert") not in (
        "insert",
        "rewrite",
        "prefix",
    ):
        raise InvalidParameter(f"{cause}mode must be insert, rewrite or prefix: {params['mode']}")
