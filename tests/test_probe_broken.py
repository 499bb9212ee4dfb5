"""Every probe case is shown to fail on a deliberately broken target; valid quirks fail none.

:data:`CAUGHT_BY` maps each NULL defect of ``tests/broken_server.py`` to every case it is
meant to catch; ``test_probe_draft.py`` and ``test_probe_security.py`` hold the tables of
the draft socket types and of PLAIN and CURVE. Together they must name every probe case:
a case no defect makes fail could be a case that cannot fail (spec/probe.md).
"""

from __future__ import annotations

import pytest
from broken_server import SECURITY_DEFECTS, BrokenServer, Config, Defect, Quirk
from probe_support import (
    Catch,
    all_case_ids,
    assert_caught,
    assert_clean,
    cases_of,
    catch,
    clean_runs,
    must_failures,
    probe,
)
from test_probe_draft import DRAFT_CAUGHT_BY
from test_probe_security import CAUGHT_BY as SECURITY_CAUGHT_BY

D = Defect
#: defect -> the cases it must fail, per server. A defect that stops the whole server
#: (CRASHES_*) gets one server per case, so that no case fails for an earlier one's crash.
CAUGHT_BY: dict[Defect, tuple[Catch, ...]] = {
    D.WRONG_SIGNATURE: (catch("REP", "greet.signature"),),
    D.WRONG_VERSION: (catch("REP", "greet.version", "version.higher"),),
    D.LOWER_CASE_MECHANISM: (catch("REP", "greet.mechanism"),),
    D.AS_SERVER_WITH_NULL: (catch("REP", "greet.as-server"),),
    D.NONZERO_FILLER: (catch("REP", "greet.filler"),),
    D.WAITS_FOR_WHOLE_GREETING: (catch("REP", "greet.send.split-10-1-53"),),
    D.GREETING_IN_ONE_READ: (catch("REP", "greet.send.split-10-54", "greet.send.bytewise"),),
    D.REFUSES_PADDING: (catch("REP", "greet.padding.ignored"),),
    D.REFUSES_AS_SERVER: (catch("REP", "greet.as-server.ignored", strict=True),),
    D.STALLS_ON_BAD_FILLER: (catch("REP", "greet.filler.nonzero"),),
    D.ACCEPTS_WRONG_MECHANISM: (catch("REP", "greet.mechanism.mismatch"),),
    D.NO_DOWNGRADE: (
        catch(
            "REP", "version.2-0", "version.1-0", "version.major-2", "version.major-0", strict=True
        ),
    ),
    D.MISSING_SOCKET_TYPE: (catch("REP", "null.socket-type.present", strict=True),),
    D.WRONG_SOCKET_TYPE: (catch("REP", "null.socket-type.value"),),
    D.ZERO_IDENTITY: (catch("REP", "null.identity"),),
    D.NUL_SEPARATED_READY: (catch("REP", "null.ready"),),
    D.MORE_ON_READY: (catch("REP", "null.ready"),),
    D.PING_BEFORE_READY: (catch("REP", "null.ready"),),
    D.READY_BEFORE_PEER: (catch("REP", "null.ready.order", strict=True),),
    D.REFUSES_UNKNOWN_METADATA: (catch("REP", "null.metadata.unknown"),),
    D.ACCEPTS_INCOMPATIBLE: (
        catch(
            "REP", "null.compat.refuse", "null.compat.missing", "null.compat.name-case", strict=True
        ),
    ),
    D.MUTES_INCOMPATIBLE: (
        catch("REP", "null.compat.refuse", "null.compat.value-case", strict=True),
    ),
    D.REFUSES_REQ_PEER: (catch("REP", "null.compat.accept"),),
    D.LENIENT_HANDSHAKE: (
        catch(
            "REP",
            "null.before-ready.message",
            "null.before-ready.unknown-command",
            "null.before-ready.ping",
        ),
    ),
    D.KEEPS_AFTER_MALFORMED: (
        catch(
            "REP",
            "null.metadata.overrun",
            "null.metadata.zero-name",
            "cmd.malformed",
            "frame.reserved-bits",
            "frame.command-more",
            "frame.size-over-limit",
            strict=True,
        ),
    ),
    D.KEEPS_AFTER_ERROR: (catch("REP", "null.error.received"),),
    D.REREADY_RESETS: (catch("REP", "null.ready.twice"),),
    D.DROPS_EMPTY_FRAMES: (
        catch("REP", "frame.short", "frame.more"),
        catch("DEALER", "frame.empty-message", "pat.dealer.unchanged"),
    ),
    D.TRUNCATES_LONG_FRAMES: (catch("REP", "frame.long", "frame.more"),),
    D.REFUSES_LONG_SMALL: (catch("REP", "frame.long-small", "frame.long-command"),),
    D.NO_PONG: (catch("REP", "cmd.ping"),),
    D.PONG_WRONG_CONTEXT: (catch("REP", "cmd.ping"),),
    D.RAW_PONG: (catch("REP", "cmd.ping.long-context", "cmd.ping.no-ttl", strict=True),),
    D.IGNORES_PING_TTL: (catch("REP", "cmd.ping.ttl", strict=True),),
    D.CLOSES_ON_UNKNOWN_COMMAND: (catch("REP", "cmd.unknown", strict=True),),
    D.CASELESS_COMMANDS: (catch("REP", "cmd.name-case", strict=True),),
    D.ERROR_ON_SUBSCRIBE: (catch("REP", "cmd.subscribe.ignored", strict=True),),
    D.SWALLOWS_MESSAGES: (catch("REP", "greet.send.whole"),),
    D.REP_WITHOUT_DELIMITER: (catch("REP", "pat.rep.envelope", "pat.rep.second-empty"),),
    D.REP_ANSWERS_WITHOUT_DELIMITER: (catch("REP", "pat.rep.no-delimiter"),),
    D.REQ_WITHOUT_DELIMITER: (catch("REQ", "pat.req.delimiter"),),
    D.REPLIES_TO_NEWEST: (catch("ROUTER", "pat.router.identity"),),
    D.PAIR_TAKES_SECOND: (catch("PAIR", "pat.pair.second-peer"),),
    D.PUB_WITHOUT_FILTER: (
        catch("PUB", "pat.pub.filter", "pat.pub.unsubscribed", "pat.pub.cancel"),
    ),
    D.PUB_SET_NOT_COUNT: (catch("PUB", "pat.pub.count", strict=True),),
    D.PUB_ONCE_PER_MATCH: (catch("PUB", "pat.pub.once"),),
    D.PUB_IGNORES_MESSAGE_FORM: (catch("PUB", "version.3-0", "pat.pub.message-form", strict=True),),
    D.PUBLISHER_CLOSES_ON_DATA: (catch("PUB", "pat.pub.data-ignored"),),
    D.PUSH_OUT_OF_ORDER: (catch("PUSH", "pat.push.order"),),
    D.PUSH_TO_ALL: (catch("PUSH", "pat.push.round-robin"),),
    D.CONSUMER_ECHOES: (catch("PULL", "pat.consumer.silent"),),
    D.CRASHES_ON_GARBAGE: (
        catch("REP", "robust.garbage-after-greeting"),
        catch("REP", "robust.http-request"),
    ),
    D.CRASHES_ON_BAD_FRAME: (
        catch("REP", "robust.truncated-frame"),
        catch("REP", "robust.oversized"),
    ),
    D.SERIAL_ACCEPT: (catch("REP", "robust.stalled-greeting", "robust.many-connections"),),
    D.SHARES_PARTIAL_MESSAGE: (catch("REP", "robust.partial-message"),),
}

ALL_TABLES = (CAUGHT_BY, DRAFT_CAUGHT_BY, SECURITY_CAUGHT_BY)


def test_every_defect_has_a_catching_case() -> None:
    tabled = [d for table in ALL_TABLES for d in table]
    assert set(tabled) == set(Defect)
    assert not SECURITY_DEFECTS & set(CAUGHT_BY)
    assert all(specs and all(s.cases for s in specs) for t in ALL_TABLES for specs in t.values())


def test_every_case_is_caught_by_a_defect() -> None:
    """A new case must come with a defect that makes it fail (spec/probe.md)."""
    caught = set().union(*(cases_of(table) for table in ALL_TABLES))
    assert sorted(all_case_ids() - caught) == []
    assert sorted(caught - all_case_ids()) == []


@pytest.mark.parametrize(
    ("defect", "spec"),
    [(d, s) for d, specs in CAUGHT_BY.items() for s in specs],
    ids=lambda v: v.name.lower() if isinstance(v, Defect) else v.socket_type,
)
def test_defect_is_caught(defect: Defect, spec: Catch) -> None:
    assert_caught(defect, spec)


@pytest.mark.parametrize("spec", clean_runs(CAUGHT_BY), ids=lambda s: s.socket_type)
def test_server_without_defects_passes_those_cases(spec: Catch) -> None:
    assert_clean(spec)


@pytest.mark.parametrize("socket_type", ["REP", "PUB"])
def test_valid_quirks_fail_no_must_case(socket_type: str) -> None:
    server = BrokenServer(Config(socket_type=socket_type, quirks=frozenset(Quirk)))
    try:
        report = probe(server.start(), socket_type)
    finally:
        server.stop()
    assert must_failures(report) == []
