"""A VM's user data as 4.3 takes it: Base64 text, at most 2 KB decoded when sent by GET and 32 KB
by POST, stored re-encoded with its padding (some readers of it insist on the padding)."""

from __future__ import annotations

import base64
import binascii
import re

from domain.errors import InvalidParameter

GET_BYTES = 2048
POST_BYTES = 32768
_ALPHABET = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_SPACE = re.compile(r"\s+")


def checked_user_data(text: str, http_method: str) -> str:
    """The user data, validated for the request's method and re-encoded; 431 otherwise."""
    compact = _SPACE.sub("", text)
    if not _ALPHABET.fullmatch(compact):
        raise InvalidParameter("User data is not base64 encoded")
    by_get = http_method.upper() != "POST"
    limit, method = (GET_BYTES, "GET") if by_get else (POST_BYTES, "POST")
    if len(compact) >= (2 * limit if by_get else limit):
        raise InvalidParameter(f"User data is too long for an http {method} request")
    try:
        decoded = base64.b64decode(compact.rstrip("=") + "=" * (-len(compact.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise InvalidParameter("User data is not base64 encoded") from None
    if len(decoded) > limit:
        raise InvalidParameter(f"User data is too long for {method} request")
    if not decoded:
        raise InvalidParameter("User data is too short")
    return base64.b64encode(decoded).decode("ascii")
