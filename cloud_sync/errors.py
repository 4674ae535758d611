"""Sync failures, all ``SyncError`` (code ``sync``), split by what the worker does next."""

from __future__ import annotations

from device.errors import SyncError


class RemoteUnavailable(SyncError):
    """Network failure, timeout or a 5xx: the outcome is unknown, so the same batch is sent again later."""


class TokenRefused(SyncError):
    """The access token was refused (401): refresh it and retry once."""


class RequestRejected(SyncError):
    """A 4xx that says the request itself is wrong: never retried as is."""

    def __init__(self, message: str, *, code: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class CredentialsRefused(SyncError):
    """The refresh token or provisioning code was refused: the unit must be provisioned (again)."""


class DeviceRevoked(CredentialsRefused):
    """The back office revoked this unit (or provisioned it again elsewhere): the cloud refuses it at once.

    The unit keeps journalling; its events wait on the unit until it is provisioned again.
    """

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "this unit was revoked in the back office; its events are kept on the unit"
            + (f" ({detail})" if detail else ""),
            hint="provision it again with a new code: sudo larder provision --code CODE",
        )


class NotProvisioned(SyncError):
    """This unit has no cloud credentials yet."""

    def __init__(self) -> None:
        super().__init__(
            "this unit is not provisioned for cloud sync",
            hint="run the install script with a provisioning code, or `larder provision --code CODE`",
        )
