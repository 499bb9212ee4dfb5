"""Every exception zmtp raises on purpose.

The rule of this module: an error says what was wrong and, where a rule of the
specification was broken, which one (``requirement``, an id from
``spec/requirements.toml``). Callers never see an unrelated exception (``IndexError``,
``struct.error``, ``construct.StreamError``) for bad input.

Who is to blame is decided at the API boundary, as h11 does it: code that parses what
the peer sent raises :class:`RemoteProtocolError`; code that refuses what our own caller
asked to send raises :class:`LocalProtocolError`. A :class:`RemoteProtocolError` carries
``reason``, the short text zmtp puts in the ZMTP ERROR command when the rule it broke
lets us tell the peer before closing; the connection layer queues that ERROR command
for the caller to flush, then raises.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Again",
    "ContextTerminated",
    "GrammarError",
    "LimitExceeded",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "ZMQError",
    "ZMTPError",
]


class ZMTPError(Exception):
    """Base class of every error zmtp raises on purpose."""


class GrammarError(ZMTPError, ValueError):
    """A grammar in :mod:`zmtp.grammar` could not parse or build a value.

    ``grammar`` names the grammar object (``"zmtp.grammar.zmtp3.Greeting"``) and
    ``detail`` is what construct reported, with the path of the offending field.
    """

    def __init__(self, grammar: str, detail: str) -> None:
        super().__init__(f"{grammar}: {detail}")
        self.grammar = grammar
        self.detail = detail


class ProtocolError(ZMTPError):
    """A rule of the protocol was broken.

    ``requirement`` is the id of the rule in ``spec/requirements.toml`` (or ``None``
    when the error is about a local limit rather than a rule of the protocol).
    """

    def __init__(self, message: str, *, requirement: str | None = None) -> None:
        super().__init__(f"{message} [{requirement}]" if requirement else message)
        self.message = message
        self.requirement = requirement


class LocalProtocolError(ProtocolError):
    """Our own caller asked for something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow.

    ``reason`` is the text for the ZMTP ERROR command (at most 255 octets of ASCII),
    or ``None`` when the connection should simply close.
    """

    def __init__(
        self, message: str, *, requirement: str | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message, requirement=requirement)
        self.reason = reason
        #: Whatever was decoded from the same input before the offending octet; a
        #: decoder fills it in so that no complete message is lost to a later error.
        self.decoded: list[Any] = []


class LimitExceeded(RemoteProtocolError):
    """The peer sent more than a configured limit allows (frame, message, command size).

    Valid by the protocol, refused by configuration: ``limit`` names the setting and
    ``value`` is its configured value.
    """

    def __init__(self, message: str, *, limit: str, value: int) -> None:
        super().__init__(f"{message} (limit {limit}={value})", reason="Message too large")
        self.limit = limit
        self.value = value


class ZMQError(ZMTPError, OSError):
    """A socket-API error with an errno, as pyzmq raises it.

    ``errno`` is one of the values in :mod:`zmtp.constants` (``EAGAIN``, ``EFSM``,
    ``EHOSTUNREACH``, ``ETERM``, ...) and ``errno_name`` its name.
    """

    def __init__(self, errno: int, message: str | None = None) -> None:
        from zmtp.constants import ERRNO_NAMES

        name = ERRNO_NAMES.get(errno, str(errno))
        super().__init__(errno, message or name)
        self.errno_name = name

    def __str__(self) -> str:
        return f"{self.errno_name}: {self.strerror}"


class Again(ZMQError):
    """The operation would block (EAGAIN): nothing to receive, or no peer can take it."""

    def __init__(self, message: str = "resource temporarily unavailable") -> None:
        from zmtp.constants import EAGAIN

        super().__init__(EAGAIN, message)


class ContextTerminated(ZMQError):
    """The socket's context was terminated (ETERM)."""

    def __init__(self, message: str = "context was terminated") -> None:
        from zmtp.constants import ETERM

        super().__init__(ETERM, message)
