"""Request signatures: the reference vectors, the `cs` client's own signing, client variants,
expiry (signature version 3), and a round-trip property."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

import pytest
import requests
from cs.client import CloudStack, transform
from hypothesis import given, settings
from hypothesis import strategies as st

from api.errors import AuthenticationFailed
from api.params import first_values, parse_tz_datetime
from api.signing import SignaturePolicy, api_key, canonical_string, sign, verify

# CloudStack request-signing vectors: parameters, canonical string and signature.
VECTORS_FILE = Path(__file__).parent / "data" / "signature_vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text())
SECRET = VECTORS["secretkey"]
KEY = "plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg"
NOW = datetime(2026, 11, 25, 19, 50, tzinfo=UTC)


def signed(params: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    return {**params, "signature": sign(params, secret)}


def listing(**extra: str) -> dict[str, str]:
    return {"command": "listZones", "response": "json", "apikey": KEY, **extra}


def in_minutes(minutes: float, fmt: str = "%Y-%m-%dT%H:%M:%S%z") -> str:
    return (NOW + timedelta(minutes=minutes)).strftime(fmt)


# --- the reference vectors -------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_canonical_string_matches_the_reference_vector(vector):
    assert canonical_string(vector["params"]) == vector["canonical"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_signature_matches_the_reference_vector(vector):
    assert sign(vector["params"], SECRET) == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_reference_request_verifies(vector):
    verify({**vector["params"], "signature": vector["signature"]}, SECRET, now=NOW)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_reference_request_with_another_secret_is_refused(vector):
    request = {**vector["params"], "signature": vector["signature"]}
    with pytest.raises(AuthenticationFailed):
        verify(request, SECRET + "x", now=NOW)


# --- what verification refuses ---------------------------------------------------------------


def test_changed_value_after_signing_is_refused():
    request = signed(listing(name="web"))
    request["name"] = "db"
    with pytest.raises(AuthenticationFailed, match="does not match"):
        verify(request, SECRET, now=NOW)


def test_added_parameter_after_signing_is_refused():
    request = signed(listing())
    request["listall"] = "true"
    with pytest.raises(AuthenticationFailed):
        verify(request, SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["signature", "apikey"])
def test_request_without_signature_or_apikey_is_refused(missing):
    request = signed(listing())
    del request[missing]
    with pytest.raises(AuthenticationFailed, match="missing"):
        verify(request, SECRET, now=NOW)


def test_apikey_given_twice_under_two_spellings_is_refused():
    request = signed(listing(apiKey=KEY))
    with pytest.raises(AuthenticationFailed, match="more than once"):
        verify(request, SECRET, now=NOW)
    with pytest.raises(AuthenticationFailed):
        api_key(request)


def test_api_key_is_found_in_any_letter_case():
    assert api_key({"apiKey": "k"}) == "k"
    assert api_key({"APIKEY": "k"}) == "k"
    assert api_key({"command": "x"}) is None


def test_signature_parameter_is_excluded_whatever_its_case():
    params = listing()
    request = {**params, "Signature": sign(params, SECRET)}
    verify(request, SECRET, now=NOW)


def test_signature_whose_plus_was_decoded_as_space_still_verifies():
    params = listing(name="n3")
    signature = sign(params, SECRET)
    assert "+" in signature, "pick a request whose signature contains +"
    verify({**params, "signature": signature.replace("+", " ")}, SECRET, now=NOW)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        verify(signed(listing()), SECRET, now=datetime(2026, 1, 1))


# --- the cs client signs; we verify ----------------------------------------------------------

AWKWARD_VALUES = [
    "plain",
    "a~b",
    "star*here",
    "a[1]",
    "[]",
    "with space",
    "plus+sign",
    "slash/and=equals&amp",
    "Zürich-東京 😀",
    "~*[] +/=%",
    "%7E%2A",
    "",
]


def cs_request(method: str, **kwargs: str) -> requests.PreparedRequest:
    """A request exactly as the `cs` client would send it (signed by cs's own code)."""
    client = CloudStack(
        endpoint="http://stratus.test/client/api", key=KEY, secret=SECRET, method=method
    )
    kind, params = client._prepare_request("listVirtualMachines", **kwargs)
    transform(params)
    client._sign(params)
    return requests.Request(method, client.endpoint, **{kind: params}).prepare()


def received(prepared: requests.PreparedRequest) -> dict[str, str]:
    """The parameters as the server decodes them (Starlette uses parse_qsl too)."""
    body = prepared.body or ""
    text = body if isinstance(body, str) else body.decode()
    pairs = parse_qsl(urlsplit(prepared.url).query, keep_blank_values=True)
    return first_values(pairs + parse_qsl(text, keep_blank_values=True))


def cs_now(params: dict[str, str]) -> datetime:
    """A moment just after cs signed: it sets `expires` ten minutes ahead of its clock."""
    return parse_tz_datetime(params["expires"]) - timedelta(minutes=9)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("value", AWKWARD_VALUES)
def test_request_signed_by_cs_verifies(method, value):
    params = received(cs_request(method, keyword=value, name=value))
    assert params["keyword"] == value
    verify(params, SECRET, now=cs_now(params))


def test_request_signed_by_cs_with_map_and_list_parameters_verifies():
    params = received(
        cs_request("get", details={"cpuNumber": "2", "memory": "1 024"}, ids=["a~1", "b*2"])
    )
    assert params["details[0].cpuNumber"] == "2"
    verify(params, SECRET, now=cs_now(params))


def test_request_signed_by_cs_is_refused_once_expired():
    params = received(cs_request("get", keyword="a~b"))
    with pytest.raises(AuthenticationFailed, match="expired"):
        verify(params, SECRET, now=cs_now(params) + timedelta(minutes=10))


def test_request_signed_by_cs_but_tampered_is_refused():
    params = received(cs_request("get", keyword="a~b"))
    params["keyword"] = "a~c"
    with pytest.raises(AuthenticationFailed):
        verify(params, SECRET, now=cs_now(params))


# --- other clients' encodings ----------------------------------------------------------------


def client_signature(params: dict[str, str], encode, sort_key=None) -> str:
    """A signature built the way a third-party client builds it."""
    names = sorted(params, key=sort_key)
    text = "&".join(f"{n}={encode(params[n])}" for n in names).lower()
    digest = hmac.new(SECRET.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


CLIENT_ENCODERS = {
    "marvin quote_plus": lambda v: quote_plus(v).replace("+", "%20"),
    "python quote safe star": lambda v: quote(v, safe="*"),
    "brackets left bare": lambda v: quote(v, safe="*[]"),
    "go query escape": lambda v: quote_plus(v, safe="~").replace("+", "%20"),
    "everything encoded": lambda v: quote(v, safe="").replace("~", "%7E"),
}


@pytest.mark.parametrize("encode", CLIENT_ENCODERS.values(), ids=CLIENT_ENCODERS.keys())
@pytest.mark.parametrize("value", ["a~b", "x*y", "a[1]", "~*[ ]", "plain text"])
def test_client_encodings_of_disputed_characters_verify(encode, value):
    params = listing(keyword=value)
    verify({**params, "signature": client_signature(params, encode)}, SECRET, now=NOW)


def test_client_that_sorts_by_lower_cased_name_verifies():
    params = listing(Zone="z", account="a")  # code-point order puts Zone first
    signature = client_signature(params, lambda v: quote(v, safe="*"), sort_key=str.lower)
    assert canonical_string(params).startswith("zone=")
    verify({**params, "signature": signature}, SECRET, now=NOW)


def test_accepting_client_encodings_does_not_let_an_encoded_lookalike_through():
    # Signed for the value "a~b"; the value "a%7Eb" (literally) must not share the signature.
    request = signed(listing(keyword="a~b"))
    request["keyword"] = "a%7Eb"
    with pytest.raises(AuthenticationFailed):
        verify(request, SECRET, now=NOW)


# --- signature version 3 expiry -------------------------------------------------------------


def v3(expires: str) -> dict[str, str]:
    return signed(listing(signatureversion="3", expires=expires))


@pytest.mark.parametrize(
    "expires",
    [in_minutes(5), in_minutes(5, "%Y-%m-%dT%H:%M:%S+00:00"), in_minutes(5, "%Y-%m-%dT%H:%M:%SZ")],
)
def test_v3_request_within_its_expiry_verifies(expires):
    verify(v3(expires), SECRET, now=NOW)


def test_v3_expiry_in_another_timezone_is_compared_as_an_instant():
    expires = (
        (NOW + timedelta(minutes=5))
        .astimezone(datetime.strptime("+0530", "%z").tzinfo)
        .strftime("%Y-%m-%dT%H:%M:%S%z")
    )
    assert expires.endswith("+0530")
    verify(v3(expires), SECRET, now=NOW)


def test_v3_request_past_its_expiry_is_refused():
    with pytest.raises(AuthenticationFailed, match="expired"):
        verify(v3(in_minutes(-1)), SECRET, now=NOW)


def test_v3_request_expiring_too_far_ahead_is_refused():
    with pytest.raises(AuthenticationFailed, match="too far"):
        verify(v3(in_minutes(16)), SECRET, now=NOW)


def test_v3_expiry_exactly_at_the_limit_verifies():
    verify(v3(in_minutes(15)), SECRET, now=NOW)


def test_v3_expiry_limit_is_a_policy():
    request = v3(in_minutes(60 * 24))
    verify(request, SECRET, now=NOW, policy=SignaturePolicy(max_expiry=None))
    with pytest.raises(AuthenticationFailed):
        verify(v3(in_minutes(6)), SECRET, now=NOW, policy=SignaturePolicy(timedelta(minutes=5)))


@pytest.mark.parametrize("expires", ["", "2026-11-25 20:00:00", "2026-11-25T20:00:00", "soon"])
def test_v3_request_with_unparseable_expiry_is_refused(expires):
    with pytest.raises(AuthenticationFailed, match="expires"):
        verify(v3(expires), SECRET, now=NOW)


def test_v3_request_without_expires_is_refused():
    with pytest.raises(AuthenticationFailed, match="without expires"):
        verify(signed(listing(signatureVersion="3")), SECRET, now=NOW)


def test_expires_is_ignored_without_signature_version_3_as_cloudstack_does():
    verify(signed(listing(expires=in_minutes(-60))), SECRET, now=NOW)


def test_policy_can_require_signature_version_3():
    with pytest.raises(AuthenticationFailed, match="required"):
        verify(signed(listing()), SECRET, now=NOW, policy=SignaturePolicy(require_expiry=True))


def test_expired_request_with_a_bad_signature_is_reported_as_a_bad_signature():
    request = v3(in_minutes(-1))
    request["signature"] = "AAAA"
    with pytest.raises(AuthenticationFailed, match="does not match"):
        verify(request, SECRET, now=NOW)


# --- properties ------------------------------------------------------------------------------

RESERVED = {"signature", "apikey", "signatureversion", "expires"}
names = st.text(min_size=1, max_size=20).filter(lambda n: n.lower() not in RESERVED)


@given(st.dictionaries(names, st.text(max_size=50), max_size=8), st.text(min_size=1))
def test_what_sign_signs_verify_accepts(extra, secret):
    params = {"apikey": KEY, **extra}
    verify({**params, "signature": sign(params, secret)}, secret, now=NOW)


wire_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=50)


@settings(max_examples=200)
@given(st.dictionaries(wire_text.filter(lambda n: n and n.lower() not in RESERVED), wire_text))
def test_signed_request_survives_url_encoding_and_decoding(extra):
    params = {"apikey": KEY, **extra}
    query = urlencode({**params, "signature": sign(params, SECRET)})
    verify(first_values(parse_qsl(query, keep_blank_values=True)), SECRET, now=NOW)
