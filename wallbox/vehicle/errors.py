"""The typed failures of a vehicle back-end: the controller decides retries by kind,
never by parsing messages, and every `str()` says what to do."""


class BackendError(Exception):
    """Base of every back-end failure; `str()` says what to do."""


class Asleep(BackendError):
    """The car is asleep or unreachable (HTTP 408; TeslaBleHttpProxy's 503 "vehicle is
    sleeping"): use what was last known, and wake it only for a command."""


class RateLimited(BackendError):
    """HTTP 429, or Tesla's EXCEEDED_LIMIT: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CommandRefused(BackendError):
    """The car answered `result: false` with a reason (complete, is_charging, ...)."""

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"the car refused {command}: {reason}")
        self.command = command
        self.reason = reason


class Unauthorized(BackendError):
    """HTTP 401/403: the token is missing, expired beyond refresh, or revoked."""


class ApiClosed(Unauthorized, RateLimited):
    """The API refuses this client for good (the Owner API's 403 "forbidden, see
    developer.tesla.com"): final for the request at hand, and asked again only
    after `retry_after` (an hour), so a closed API is never hammered."""


class Unavailable(BackendError):
    """Anything else: connection refused, timeouts, 5xx, answers that make no sense."""


class Misdirected(Unavailable):
    """HTTP 421: the Fleet API serves this account in another region; `base_url` names
    it when the answer did ("user out of region, use base URL: ...")."""

    def __init__(self, message: str, base_url: str | None) -> None:
        super().__init__(message)
        self.base_url = base_url


class NotFound(Unavailable):
    """HTTP 404: this API (a local proxy, say) has no such endpoint or car."""


class NotConfigured(BackendError):
    """Not set up (no login, no back-end, commands that need signing): nothing was sent."""
