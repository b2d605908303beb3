"""Domain errors raised by services; views and the API turn them into 4xx responses.

Messages are user-facing, so callers pass translated text.
"""


class DomainError(Exception):
    """A request that is well-formed but not allowed in the current state (HTTP 409)."""

    status_code = 409

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """Input that fails validation (HTTP 400). Nothing is changed."""

    status_code = 400


class PermissionDenied(DomainError):
    """The actor may see the object but not perform the action (HTTP 403)."""

    status_code = 403


class NotFound(DomainError):
    """The object does not exist or is outside the actor's scope (HTTP 404)."""

    status_code = 404
