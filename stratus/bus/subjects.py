"""Subject names and NATS-style matching, shared by both bus implementations.

Both implementations validate subjects the same way, so a subject that NATS would refuse is
refused in the embedded mode too, instead of surfacing only in production.
"""

from __future__ import annotations

from stratus.bus import PublishError

DEFAULT_PREFIX = "stratus"


def work(hypervisor: str, action: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where work for one action on one hypervisor kind is published."""
    return f"{prefix}.work.{hypervisor}.{action}"


def results(hypervisor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where adapters of one hypervisor kind report outcomes."""
    return f"{prefix}.results.{hypervisor}"


def heartbeats(hypervisor: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where adapters of one hypervisor kind report that they are alive."""
    return f"{prefix}.heartbeats.{hypervisor}"


def check_publish(prefix: str, subject: str, msg_id: str) -> None:
    """Refuse a publish NATS would refuse or could not store in the bus's stream."""
    for token in _tokens(subject):
        if token in ("*", ">"):
            raise ValueError(f"cannot publish to a wildcard subject: {subject!r}")
    if not msg_id:
        raise ValueError("msg_id is required: it is what de-duplicates republished messages")
    if not covered_by(prefix, subject):
        raise PublishError(f"no stream stores {subject!r}: the bus holds {prefix}.>")


def check_pattern(prefix: str, pattern: str) -> None:
    """Refuse a subscription NATS would refuse: misplaced `>`, or outside the stream."""
    tokens = _tokens(pattern)
    if ">" in tokens[:-1]:
        raise ValueError(f"'>' must be the last token: {pattern!r}")
    if not covered_by(prefix, pattern):
        raise ValueError(f"{pattern!r} is outside the bus's subjects ({prefix}.>)")


def matches(pattern: str, subject: str) -> bool:
    """Whether `subject` falls under `pattern`: `*` is one token, a final `>` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or token not in ("*", have[index]):
            return False
    return len(want) == len(have)


def covered_by(prefix: str, subject: str) -> bool:
    """Whether `subject` (or every subject of a pattern) lies within `<prefix>.>`."""
    return matches(f"{prefix}.>", subject)


def _tokens(subject: str) -> list[str]:
    tokens = subject.split(".")
    if not subject or any(not token or any(c.isspace() for c in token) for token in tokens):
        raise ValueError(f"invalid subject: {subject!r}")
    for token in tokens:
        if len(token) > 1 and ("*" in token or ">" in token):
            raise ValueError(f"wildcards must be whole tokens: {subject!r}")
    return tokens
