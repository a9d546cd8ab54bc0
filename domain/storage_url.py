"""What a primary storage URL or an image store URL says: its kind, its place, its credentials.

Credentials (user info of an RBD URL, `user`/`password` of an SMB URL) are split off here, so
the URL a pool or store keeps and shows is the URL without them; the caller seals what comes
back as secrets. Which kinds each hypervisor may use follows CloudStack 4.3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from domain.errors import InvalidParameter

# Primary storage: URL scheme -> (4.3 pool type, hypervisors that may use it).
POOL_SCHEMES: dict[str, tuple[str, frozenset[str]]] = {
    "nfs": ("NetworkFilesystem", frozenset({"KVM", "XenServer", "VMware", "Simulator"})),
    "smb": ("SMB", frozenset({"Hyperv"})),
    "cifs": ("SMB", frozenset({"Hyperv"})),
    "sharedmountpoint": ("SharedMountPoint", frozenset({"KVM", "Simulator"})),
    "clvm": ("CLVM", frozenset({"KVM"})),
    "rbd": ("RBD", frozenset({"KVM"})),
    "ocfs2": ("OCFS2", frozenset({"KVM"})),
    "iscsi": ("IscsiLUN", frozenset({"XenServer", "KVM"})),
    "presetup": ("PreSetup", frozenset({"XenServer", "VMware"})),
    "vmfs": ("VMFS", frozenset({"VMware"})),
}
# Hypervisors whose pools may span a whole zone (4.3: KVM, VMware and Hyper-V).
ZONE_WIDE_HYPERVISORS = frozenset({"KVM", "VMware", "Hyperv", "Simulator"})
SMB_SECRET_KEYS = ("password",)
LOCAL = "file"


@dataclass(frozen=True)
class StorageUrl:
    """A storage URL with its credentials taken out (`secrets`, to be sealed)."""

    scheme: str
    host: str
    port: int | None
    path: str
    shown: str  # the URL without credentials: what is kept in clear and answered
    user: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


def _split(url: str) -> tuple[str, str, int | None, str, str, str, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidParameter(f"{_masked(url)} is not a valid uri") from None
    if not parts.scheme:
        raise InvalidParameter(f"{_masked(url)} is not a valid uri: it has no scheme")
    return (
        parts.scheme.lower(),
        parts.hostname or "",
        port,
        unquote(parts.path),
        unquote(parts.username or ""),
        unquote(parts.password or ""),
        parts.query,
    )


def _masked(url: str) -> str:
    """The URL for an error message: never with what may be a credential in it."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "the url"
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else "the url"


def _shown(scheme: str, host: str, port: int | None, path: str, query: dict[str, str]) -> str:
    where = f"{host}:{port}" if port else host
    text = f"{scheme}://{where}{path}"
    return f"{text}?{urlencode(query)}" if query else text


def parse_pool_url(url: str, hypervisor: str) -> StorageUrl:
    """A primary storage URL, checked against the hypervisor that will use it (431 if wrong)."""
    scheme, host, port, path, user, password, query = _split(url)
    if scheme == LOCAL:
        raise InvalidParameter(
            "file:// is not a primary storage URL: a host's local storage is found when the "
            "host connects"
        )
    if scheme not in POOL_SCHEMES:
        known = ", ".join(sorted(POOL_SCHEMES))
        raise InvalidParameter(f"Unsupported storage scheme {scheme}: use one of {known}")
    kind, hypervisors = POOL_SCHEMES[scheme]
    if hypervisor not in hypervisors:
        raise InvalidParameter(
            f"{kind} storage ({scheme}://) cannot be used by {hypervisor} hosts; "
            f"it is for {', '.join(sorted(hypervisors))}"
        )
    options = dict(parse_qsl(query, keep_blank_values=True))
    secrets: dict[str, str] = {}
    if kind == "SMB":
        user = options.pop("user", user)
        for key in SMB_SECRET_KEYS:
            if key in options:
                secrets[key] = options.pop(key)
        if password:
            secrets["password"] = password
    elif password:
        secrets["secret"] = password
    if kind == "SMB":
        _check_smb_credentials(user, secrets)
    _check_place(kind, scheme, host, path)
    shown_query = {k: v for k, v in options.items()}
    if user and kind == "SMB":
        shown_query = {"user": user, **shown_query}
    return StorageUrl(
        scheme,
        host,
        port,
        path,
        _shown(scheme, host, port, path, shown_query),
        user,
        secrets,
        options,
    )


def _check_smb_credentials(user: str, secrets: dict[str, str]) -> None:
    if not user or not secrets.get("password"):
        raise InvalidParameter("An SMB share URL needs user= and password= (and domain=)")


def _check_place(kind: str, scheme: str, host: str, path: str) -> None:
    if kind in ("NetworkFilesystem", "SMB", "IscsiLUN", "RBD") and not host:
        raise InvalidParameter(f"A {scheme}:// storage URL needs a host")
    if kind == "RBD":
        if not path.strip("/"):
            raise InvalidParameter("An rbd:// storage URL needs the Ceph pool as its path")
    elif not path or path == "/":
        raise InvalidParameter(f"A {scheme}:// storage URL needs a path")
    if kind == "IscsiLUN" and len([p for p in path.split("/") if p]) != 2:
        raise InvalidParameter("An iscsi:// storage URL's path is /<iqn>/<lun>")


# Image stores: provider -> URL schemes it takes (None: the provider needs no URL).
STORE_SCHEMES: dict[str, tuple[str, ...]] = {
    "NFS": ("nfs",),
    "SMB": ("cifs", "smb"),
    "S3": ("http", "https"),
    "Swift": ("http", "https"),
}


def parse_store_url(url: str, provider: str) -> StorageUrl:
    """An image store's URL, checked against its provider (431 for any other scheme)."""
    scheme, host, port, path, user, password, query = _split(url)
    allowed = STORE_SCHEMES[provider]
    if scheme not in allowed:
        raise InvalidParameter(
            f"Unsupported scheme for {provider} image store {scheme}://: use "
            + " or ".join(f"{s}://" for s in allowed)
        )
    if not host:
        raise InvalidParameter(f"The {provider} image store URL needs a host")
    options = dict(parse_qsl(query, keep_blank_values=True))
    secrets: dict[str, str] = {}
    if password:
        secrets["password"] = password
    if "password" in options:
        secrets["password"] = options.pop("password")
    user = options.pop("user", user)
    if provider == "SMB":
        _check_smb_credentials(user, secrets)
    if provider in ("NFS", "SMB") and (not path or path == "/"):
        raise InvalidParameter(f"The {provider} image store URL needs a path")
    shown_query = {"user": user, **options} if user else options
    return StorageUrl(
        scheme,
        host,
        port,
        path,
        _shown(scheme, host, port, path, shown_query),
        user,
        secrets,
        options,
    )
