"""The one hierarchy of errors the domain raises; api/ maps each class to the wire, once."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a command can answer with."""

    def __init__(self, message: str, *, resource_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.resource_ids = resource_ids


class InvalidParameter(DomainError):
    """A value is missing, malformed or outside what is allowed."""


class NotFound(InvalidParameter):
    """A referenced resource does not exist (CloudStack reports this as a parameter error)."""


class PermissionDenied(DomainError):
    """The caller may not see or change the resource."""


class InsufficientCapacity(DomainError):
    """No host, address or other resource has room for the request."""


class ResourceUnavailable(DomainError):
    """The resource exists but cannot be used now (down, in maintenance, upgrading)."""


class ResourceAllocationFailed(DomainError):
    """Allocating a resource failed."""


class ResourceInUse(DomainError):
    """The resource is still used by something else and cannot be changed or removed."""


class NetworkRuleConflict(DomainError):
    """A network rule conflicts with an existing one."""


class InvalidState(DomainError):
    """The resource is not in a state that allows the operation."""


class ConcurrencyConflict(DomainError):
    """Another command changed the same aggregate and retrying did not resolve it."""
