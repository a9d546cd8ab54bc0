"""Stickiness policies are checked as 4.3's virtual router checks them, and the router's haproxy
configuration shows each load balancer with its algorithm, stickiness and certificate."""

from __future__ import annotations

import json

import pytest

from adapters.haproxy import Limits, build_config
from domain.errors import InvalidParameter
from domain.lb_stickiness import capability_text, check_policy

RULE = {
    "kind": "LoadBalancing",
    "address": "203.0.113.5",
    "start_port": 80,
    "private_start": 8080,
    "protocol": "tcp",
    "algorithm": "source",
    "members": [{"vm_id": "v1", "vm_ip": "10.1.1.5"}, {"vm_id": "v2", "vm_ip": "10.1.1.6"}],
    "stickiness": [],
    "cert_id": None,
}


def test_the_router_offers_4_3s_three_stickiness_methods() -> None:
    methods = {m["methodname"]: m for m in json.loads(capability_text())}
    assert set(methods) == {"LbCookie", "AppCookie", "SourceBased"}
    assert {p["paramname"] for p in methods["SourceBased"]["paramlist"]} == {"tablesize", "expire"}


def test_a_policy_is_refused_for_an_unknown_method_parameter_or_format() -> None:
    assert check_policy("r", "lbcookie", [("cookie-name", "A"), ("nocache", "")]) == (
        "LbCookie",
        (("cookie-name", "A"), ("nocache", "")),
    )
    cases = {
        "Failed to match Stickiness method name": ("Magic", []),
        "parameter color is not supported": ("LbCookie", [("color", "red")]),
        "expire is not in timeformat": ("SourceBased", [("expire", "30 minutes")]),
        "tablesize is not in size format": ("SourceBased", [("tablesize", "big")]),
        "length is not a number": ("AppCookie", [("length", "x")]),
        "value should be specified": ("AppCookie", [("holdtime", "")]),
    }
    for text, (method, params) in cases.items():
        with pytest.raises(InvalidParameter, match=text):
            check_policy("r", method, params)


def test_haproxy_serves_each_balancer_with_its_members_and_stickiness() -> None:
    sticky = {
        **RULE,
        "stickiness": [{"name": "s", "method": "LbCookie", "params": {"cookie-name": "SRV"}}],
    }
    text = build_config([sticky]).text
    assert "listen 203_0_113_5-80\n\tbind 203.0.113.5:80\n\tbalance source" in text
    assert "\tcookie SRV insert" in text and "\tmode http" in text
    assert "\tserver 203_0_113_5-80_0 10.1.1.5:8080 check cookie 203_0_113_5-80_0" in text
    app = {**RULE, "stickiness": [{"name": "a", "method": "AppCookie", "params": {}}]}
    assert "appsession appcookie_" in build_config([app]).text
    assert "listen" not in build_config([{**RULE, "protocol": "udp"}]).text


def test_an_ssl_balancer_terminates_with_its_certificate_bundle() -> None:
    rule = {**RULE, "protocol": "ssl", "cert_id": "c1", "start_port": 443}
    certificate = {"id": "c1", "certificate": "CERT\n", "chain": "CA\n"}
    config = build_config([rule], [certificate], {"c1": "KEY\n"})
    assert "bind 203.0.113.5:443 ssl crt /etc/haproxy/certs/c1.pem" in config.text
    assert config.pems == {"c1": "CERT\nCA\nKEY\n"}
    assert "KEY" not in config.text and "KEY" not in repr(config)
    with pytest.raises(ValueError, match="no key for certificate c1"):
        build_config([rule], [certificate], {})


def test_haproxy_runs_with_the_offerings_connection_limit_and_keep_alive() -> None:
    sticky = {
        **RULE,
        "stickiness": [{"name": "s", "method": "LbCookie", "params": {"cookie-name": "SRV"}}],
    }
    closing = build_config([sticky]).text
    assert "\tmaxconn 4096\n" in closing
    assert "\toption httpclose" in closing and "keep-alive" not in closing

    kept = build_config([sticky], limits=Limits(250, keep_alive=True)).text
    assert "\tmaxconn 250\n" in kept and "\tmaxconn 4096" not in kept
    assert "defaults" in kept.split("\toption http-keep-alive")[0]
    assert "httpclose" not in kept

    ssl = {**RULE, "protocol": "ssl", "cert_id": "c1"}
    certificate = {"id": "c1", "certificate": "C\n", "chain": ""}
    text = build_config([ssl], [certificate], {"c1": "K\n"}, Limits.of({})).text
    assert "\tmode http\n\toption httpclose" in text
    assert Limits.of({"max_connections": 10, "keep_alive": True}) == Limits(10, True)
    with pytest.raises(ValueError, match="maxconn must be positive"):
        build_config([RULE], limits=Limits(0))
