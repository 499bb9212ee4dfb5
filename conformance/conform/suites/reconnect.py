"""Reconnecting and resubscribing (SOCK-ALL-003, ZMTP-SUB-006).

The partner's socket is closed and a new one takes its endpoint; the subject must find
it again (when it connected) and, as a subscriber, send its subscriptions on the new
connection. The kit keeps calling into the subject's socket while it waits (its receive
calls), which is what libzmq needs before it resends (E-PAT-06).
"""

from __future__ import annotations

import time

from conformance.conform.case import Role, case
from conformance.conform.trial import Sock, Trial
from conformance.conform.waits import DEADLINE_S, POLL_MS, probe, starts
from conformance.report.model import Level

MUST, SHOULD = Level.MUST, Level.SHOULD


def _until_through(t: Trial, sender: Sock, receiver: Sock, body: bytes, requirement: str) -> None:
    """Keep sending until a message arrives at ``receiver``; fail at the deadline."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        sender.send([body], 0)
        if receiver.recv(POLL_MS * 5) is not None:
            return
    t.fail(f"nothing reached the new {receiver.label} within {DEADLINE_S:g} s", requirement)


@case(
    "reconnect.connecter_reconnects",
    ["SOCK-ALL-003"],
    SHOULD,
    "the PULL that a PUSH connected to goes away and a new PULL binds the same endpoint",
    "PUSH connects again: its messages reach the new PULL",
    subject=["PUSH"],
    partner=["PULL"],
    roles=[Role.CONNECT],
)
def connecter_reconnects(t: Trial) -> None:
    push, pull = t.subject("PUSH"), t.partner("PULL")
    (endpoint,) = t.link(push, pull)
    probe(push, [pull], [b"probe"])
    pull.close()
    again = t.partner("PULL")
    again.bind(endpoint)
    _until_through(t, push, again, b"after", "SOCK-ALL-003")


def _restart_publisher(t: Trial, sub: Sock, pub: Sock, endpoints: list[str]) -> Sock:
    pub.close()
    again = t.partner("PUB")
    if t.binds(sub):
        again.connect(endpoints[0])
    else:
        again.bind(endpoints[0])
    return again


@case(
    "reconnect.resubscribe.new_publisher",
    ["ZMTP-SUB-006"],
    MUST,
    "a bound SUB subscribed to 'A' loses its publisher; a new PUB connects",
    "SUB sends its subscription on the new connection: 'A' messages flow again",
    subject=["SUB"],
    partner=["PUB"],
    roles=[Role.BIND],
)
def resubscribe_new_publisher(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    endpoints = t.link(sub, pub)
    probe(pub, [sub], [b"A-probe"], starts(b"A"))
    again = _restart_publisher(t, sub, pub, endpoints)
    _until_through(t, again, sub, b"A-again", "ZMTP-SUB-006")


@case(
    "reconnect.resubscribe.after_reconnect",
    ["SOCK-ALL-003", "ZMTP-SUB-006"],
    SHOULD,
    "the PUB a SUB (subscribed to 'A') connected to goes away; a new PUB binds there",
    "SUB reconnects and resends its subscription: 'A' messages flow again",
    subject=["SUB"],
    partner=["PUB"],
    roles=[Role.CONNECT],
)
def resubscribe_after_reconnect(t: Trial) -> None:
    sub, pub = t.subject("SUB", subscribe=b"A"), t.partner("PUB")
    endpoints = t.link(sub, pub)
    probe(pub, [sub], [b"A-probe"], starts(b"A"))
    again = _restart_publisher(t, sub, pub, endpoints)
    _until_through(t, again, sub, b"A-again", "ZMTP-SUB-006")
