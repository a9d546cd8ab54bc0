"""API-key request signatures: verification as CloudStack's ApiServer does it, and signing.

The signed text is every parameter but `signature`, sorted by name, each value percent-encoded
like Java's URLEncoder (space as %20), joined `name=value` with `&`, then lower-cased; the
signature is its HMAC-SHA1 under the user's secret key, in standard Base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import product
from urllib.parse import quote

from api.errors import AuthenticationFailed
from api.params import parse_tz_datetime

# Characters whose encoding differs between Java's URLEncoder and the clients people use:
# Python's quote() keeps "~" (Java sends %7E), quote_plus() and Go encode "*" (Java keeps it),
# and some clients leave brackets bare. The server lower-cases everything, so case is moot.
_JAVA_LITERALS = frozenset("*")
_DISPUTED = ("~", "*", "[]")


@dataclass(frozen=True)
class SignaturePolicy:
    """How strictly `expires` is enforced (CloudStack's enforce.post.requests.and.timestamps)."""

    max_expiry: timedelta | None = timedelta(minutes=15)  # None: any future expiry is accepted
    require_expiry: bool = False  # True: unsigned-version-3 requests (no `expires`) are refused


def _encode(value: str, literals: frozenset[str]) -> str:
    """`value` percent-encoded as URLEncoder does, except that `literals` are left bare."""
    # Lone surrogates become "?" as Java's String.getBytes("UTF-8") makes them.
    encoded = quote(value.encode("utf-8", "replace"), safe="".join(sorted(literals - {"~"})))
    # quote() never encodes "~"; Java always does.
    return encoded if "~" in literals else encoded.replace("~", "%7E")


def _by_code_point(name: str) -> str:
    return name


def _by_lower_case(name: str) -> str:
    return name.lower()


def canonical_string(
    params: Mapping[str, str],
    literals: frozenset[str] = _JAVA_LITERALS,
    order: Callable[[str], str] = _by_code_point,
) -> str:
    """The lower-cased text a signature covers; by default exactly CloudStack's form."""
    names = sorted((name for name in params if name.lower() != "signature"), key=order)
    return "&".join(f"{name}={_encode(params[name], literals)}" for name in names).lower()


def _client_variants(params: Mapping[str, str]) -> Iterator[str]:
    """CloudStack's canonical string first, then each form some real client signs instead.

    Only characters that actually occur in a value multiply the forms, so a request without
    any of ``~ * [ ]`` and with lower-case names has exactly one.
    """
    text = "".join(value for name, value in params.items() if name.lower() != "signature")
    present = [chars for chars in _DISPUTED if any(char in text for char in chars)]
    orders = [_by_code_point]
    if sorted(params) != sorted(params, key=str.lower):
        orders.append(_by_lower_case)  # Marvin and libcloud sort by the lower-cased name
    seen: set[str] = set()
    for flips, order in product(product((False, True), repeat=len(present)), orders):
        literals = set(_JAVA_LITERALS)
        for chars, flip in zip(present, flips, strict=True):
            if flip:
                literals ^= set(chars)
        canonical = canonical_string(params, frozenset(literals), order)
        if canonical not in seen:
            seen.add(canonical)
            yield canonical


def _digest(canonical: str, secret: str) -> bytes:
    mac = hmac.new(secret.encode("utf-8"), canonical.encode("utf-8", "replace"), hashlib.sha1)
    return base64.b64encode(mac.digest())


def sign(params: Mapping[str, str], secret: str) -> str:
    """The signature CloudStack expects for `params` (any `signature` among them is ignored)."""
    return _digest(canonical_string(params), secret).decode("ascii")


def _single(params: Mapping[str, str], wanted: str) -> str | None:
    """The value of the parameter named `wanted` in any letter case, as CloudStack finds it.

    Two spellings of one name (`apiKey` and `apikey`) make the request ambiguous: refused.
    """
    found = [value for name, value in params.items() if name.lower() == wanted]
    if len(found) > 1:
        raise AuthenticationFailed(f"parameter {wanted} is given more than once")
    return found[0] if found else None


def api_key(params: Mapping[str, str]) -> str | None:
    """The API key a request claims to be signed with, to look its user and secret up by.

    Raises AuthenticationFailed when the key is given twice under different spellings.
    """
    return _single(params, "apikey")


def verify(
    params: Mapping[str, str],
    secret: str,
    *,
    now: datetime,
    policy: SignaturePolicy = SignaturePolicy(),
) -> None:
    """Return if `params` carry a valid signature under `secret` and have not expired.

    Raises AuthenticationFailed, whose message (for the log only) says what was wrong.
    `params` hold the first value of each parameter (see `api.params.first_values`).
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    provided = _single(params, "signature")
    if not provided or not _single(params, "apikey"):
        raise AuthenticationFailed("apikey or signature missing")
    # A client that forgets to encode the signature has its "+" turned into a space by the
    # query-string decoder; Base64 has no spaces, so mending it cannot admit a forgery.
    claimed = provided.replace(" ", "+").encode("utf-8", "replace")
    matches = [hmac.compare_digest(_digest(c, secret), claimed) for c in _client_variants(params)]
    if not any(matches):
        raise AuthenticationFailed("signature does not match")
    _check_expiry(params, now, policy)


def _check_expiry(params: Mapping[str, str], now: datetime, policy: SignaturePolicy) -> None:
    # As in CloudStack, `expires` is only enforced when the client opts into version 3.
    if _single(params, "signatureversion") != "3":
        if policy.require_expiry:
            raise AuthenticationFailed("signatureversion=3 with expires is required")
        return
    expires = _single(params, "expires")
    if expires is None:
        raise AuthenticationFailed("signatureversion=3 without expires")
    try:
        moment = parse_tz_datetime(expires)
    except ValueError:
        raise AuthenticationFailed("expires is not yyyy-MM-dd'T'HH:mm:ssZ") from None
    if moment < now:
        raise AuthenticationFailed("request has expired")
    if policy.max_expiry is not None and moment > now + policy.max_expiry:
        raise AuthenticationFailed("expires is too far in the future")
