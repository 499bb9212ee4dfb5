"""One ZMTP connection: segments of both directions in, events out.

Glue only: the :class:`~zmtp.dissect.reassembly.HalfStream` of each direction puts
segments in order, the :class:`~zmtp.dissect.stream.Side` decodes them, and each token
goes to the module that knows what it means (:mod:`zmtp.dissect.handshake` for the
security handshake, :mod:`zmtp.dissect.traffic` afterwards), whose
:class:`~zmtp.dissect.peers.Outcome` becomes an :class:`~zmtp.dissect.events.Event`
labelled with what the connection has shown so far (generation, mechanism, socket
types). Direction 0 is the side that opened the connection (or spoke first).

The data path is a whole message from a side whose handshake is done: one tuple of
frames and one event, without touching the handshake tables.
"""

from __future__ import annotations

from zmtp.codec.legacy import Greeting10, Greeting20, socket_type_name
from zmtp.codec.tokens import Command, Greeting, Message
from zmtp.dissect import handshake, traffic
from zmtp.dissect.events import Event, FieldValue, Kind, Violation
from zmtp.dissect.keylog import KeyLog
from zmtp.dissect.pcap import Segment
from zmtp.dissect.peers import Outcome, Peer, compatibility, generation_label
from zmtp.dissect.reassembly import Gap, HalfStream
from zmtp.dissect.stream import Broken, Item, Resynced, Side

FIN, SYN, RST = 0x01, 0x02, 0x04


class Connection:
    """Both directions of one TCP connection (or Unix-socket pair) that carries ZMTP."""

    __slots__ = (
        "_closed",
        "_compat",
        "_fast",
        "_halves",
        "_labels",
        "_sides",
        "ends",
        "keylog",
        "peers",
        "sink",
        "stream",
    )

    def __init__(
        self, stream: int, ends: tuple[str, str], sink: list[Event], keylog: KeyLog | None = None
    ) -> None:
        self.stream = stream
        self.ends = ends
        self.sink = sink
        self.keylog = keylog
        self.peers = (Peer(), Peer())
        self._halves = (HalfStream(), HalfStream())
        self._sides: list[Side | None] = [None, None]
        self._labels: list[tuple[str | None, str | None, str | None, str | None]] = [
            (None, None, None, None),
            (None, None, None, None),
        ]
        # Per direction: a whole message needs no check (handshake done, clear framing).
        self._fast = [False, False]
        self._compat = False
        self._closed = [False, False]

    # ------------------------------------------------------------------ input

    def segment(self, d: int, ts: float, seg: Segment) -> bool:
        """One captured segment sent by direction ``d`` (0 or 1).

        Returns True once both directions are closed (two FINs, or a RST).
        """
        flags = seg.flags
        half = self._halves[d]
        if flags & SYN:
            half.syn(seg.seq)
        if seg.payload or seg.missing:
            if seg.seq < 0:  # a Unix socket: every write, in order, nothing lost
                self._piece(d, ts, seg.payload, midstream=False)
            else:
                for piece in half.add(seg.seq, seg.payload, seg.missing):
                    self._piece(d, ts, piece, midstream=half.midstream)
        if flags & (RST | FIN):
            # After a FIN nothing fills a hole in this direction; after a RST, in either.
            for e in (0, 1) if flags & RST else (d,):
                other = self._halves[e]
                for piece in other.flush():
                    self._piece(e, ts, piece, midstream=other.midstream)
            self._emit(d, ts, Kind.CLOSE, fields=(("how", "RST" if flags & RST else "FIN"),))
            self._closed[d] = True
            if flags & RST:
                self._closed[1 - d] = True
        return self._closed[0] and self._closed[1]

    def finish(self, ts: float) -> None:
        """The capture is over: deliver what is held, and report what is incomplete."""
        for d in (0, 1):
            half = self._halves[d]
            for piece in half.flush():
                self._piece(d, ts, piece, midstream=half.midstream)
        for d in (0, 1):
            side = self._sides[d]
            if side is None:
                continue
            items, left = side.finish(self._peer_generation(d))
            for item in items:
                self._item(d, ts, item)
            if left:
                self._emit(d, ts, Kind.TRUNCATED, fields=(("octets", left),))

    def _peer_generation(self, d: int) -> int | None:
        other = self._sides[1 - d]
        return other.generation if other is not None else None

    def _piece(self, d: int, ts: float, piece: bytes | Gap, *, midstream: bool) -> None:
        side = self._sides[d]
        if side is None:
            side = self._sides[d] = self._new_side(d, ts, piece, midstream)
        if isinstance(piece, Gap):
            side.gap(piece.size)
            self._fast[d] = False
            self._emit(d, ts, Kind.GAP, fields=(("octets", piece.size),))
            return
        for item in side.feed(piece, self._peer_generation(d)):
            self._item(d, ts, item)

    def _new_side(self, d: int, ts: float, first: bytes | Gap, midstream: bool) -> Side:
        if not midstream or (isinstance(first, bytes) and first[:1] == b"\xff"):
            return Side()
        generation = self._peer_generation(d) or 3
        self._emit(
            d,
            ts,
            Kind.NOTE,
            fields=(("note", f"capture starts mid-stream; framing assumed ZMTP {generation}.x"),),
        )
        return Side(midstream=True, generation=generation)

    # ----------------------------------------------------------------- tokens

    def _item(self, d: int, ts: float, item: Item) -> None:
        if type(item) is Message:
            frames = tuple(item.frames)
            if self._fast[d]:
                gen, mech, src_type, dst_type = self._labels[d]
                ends = self.ends
                event = (ts, self.stream, ends[d], ends[1 - d], Kind.MESSAGE, gen, mech)
                self.sink.append(Event._make((*event, src_type, dst_type, None, (), frames, ())))
                return
            self._message(d, ts, frames)
        elif type(item) is Command:
            self._command(d, ts, item)
        elif isinstance(item, Greeting | Greeting20 | Greeting10):
            self._greeting(d, ts, item)
            waiting = self._sides[1 - d]
            if waiting is not None:  # the other side may have waited for this one's generation
                for other in waiting.retry(self._peer_generation(1 - d)):
                    self._item(1 - d, ts, other)
        elif isinstance(item, Broken):
            err = item.error
            self._fast[d] = False
            violation = Violation(err.requirement, err.message)
            self._emit(d, ts, Kind.VIOLATION, violations=(violation,))
        elif isinstance(item, Resynced):
            note = f"decoding resumes after {item.skipped} octets that could not be framed"
            self._emit(d, ts, Kind.NOTE, fields=(("note", note), ("skipped", item.skipped)))

    def _message(self, d: int, ts: float, frames: tuple[bytes, ...]) -> None:
        me, other = self.peers[d], self.peers[1 - d]
        if me.mechanism == "CURVE":
            self._curve_frames(d, ts, frames)
            return
        faults: list[Violation] = []
        fault = handshake.may_send(me, other) if me.generation == 3 else None
        if fault is not None:
            faults.append(fault)
        fields = traffic.subscription(frames) if me.subscriber else []
        self._fast[d] = me.done and not faults and not me.subscriber
        self._emit(d, ts, Kind.MESSAGE, fields=tuple(fields), frames=frames, violations=faults)

    def _curve_frames(self, d: int, ts: float, frames: tuple[bytes, ...]) -> None:
        """Message frames on a CURVE connection: each should be one MESSAGE command."""
        me, other = self.peers[d], self.peers[1 - d]
        faults: list[Violation] = []
        if len(frames) > 1:
            faults.append(Violation("CURVE-FRAME-002", "MESSAGE in a frame with MORE set"))
        for frame in frames:
            if frame[:8] == b"\x07MESSAGE":
                outcomes = traffic.curve_message(
                    Command("MESSAGE", frame[8:]), me, other, self.keylog
                )
            else:
                text = "message frame in clear on a CURVE connection"
                outcomes = [
                    Outcome(
                        Kind.MESSAGE,
                        frames=(frame,),
                        violations=(Violation("CURVE-FRAME-002", text),),
                    )
                ]
            for outcome in outcomes:
                if faults:
                    outcome = outcome._replace(violations=(*faults, *outcome.violations))
                    faults = []
                self._emit_outcome(d, ts, outcome)

    def _command(self, d: int, ts: float, cmd: Command) -> None:
        me, other = self.peers[d], self.peers[1 - d]
        table = handshake.HANDSHAKES.get(me.mechanism or "")
        if cmd.name == "MESSAGE" and me.mechanism == "CURVE":
            outcomes = traffic.curve_message(cmd, me, other, self.keylog)
            # Receivers may accept this (CURVE-FRAME-004); the sender broke CURVE-FRAME-002.
            framing = Violation("CURVE-FRAME-002", "MESSAGE in a command frame")
            outcomes[:1] = [o._replace(violations=(framing, *o.violations)) for o in outcomes[:1]]
        elif table is not None and cmd.name in table:
            outcomes = [table[cmd.name](cmd, me, other, self.keylog)]
        else:
            outcome = traffic.command(cmd, me, other)
            fault = self._out_of_handshake(cmd, me, other, table is not None)
            if fault is not None:
                outcome = outcome._replace(violations=(fault, *outcome.violations))
            outcomes = [outcome]
        for outcome in outcomes:
            self._emit_outcome(d, ts, outcome)

    @staticmethod
    def _out_of_handshake(cmd: Command, me: Peer, other: Peer, known: bool) -> Violation | None:
        """Why a traffic command may not come now (before the handshake, or in clear)."""
        if not known:
            return None
        if me.mechanism == "CURVE":
            return Violation("CURVE-CMD-001", f"{cmd.name} in clear on a CURVE connection")
        if handshake.may_send(me, other) is None:
            return None
        if cmd.name == "PING":
            return Violation("ZMTP-HB-002", "PING before the handshake is complete")
        rule = "ZMTP-NULL-010" if me.mechanism == "NULL" else "PLAIN-ORDER-001"
        return Violation(rule, f"{cmd.name} during the {me.mechanism} handshake")

    def _emit_outcome(self, d: int, ts: float, outcome: Outcome) -> None:
        faults = list(outcome.violations)
        if not self._compat:
            fault = self._compatibility()
            if fault is not None:
                faults.append(fault)
        self._relabel()
        self._emit(d, ts, outcome.kind, outcome.name, outcome.fields, outcome.frames, faults)

    def _compatibility(self) -> Violation | None:
        a, b = self.peers
        if a.socket_type is None or b.socket_type is None:
            return None
        self._compat = True
        rule = "ZMTP20-GREET-009" if a.generation == 2 else "SOCK-COMPAT-001"
        return compatibility(a, b, rule)

    # -------------------------------------------------------------- greetings

    def _greeting(self, d: int, ts: float, token: Greeting | Greeting20 | Greeting10) -> None:
        me, other = self.peers[d], self.peers[1 - d]
        faults: list[Violation] = []
        fields: list[tuple[str, FieldValue]]
        if isinstance(token, Greeting):
            fields = self._greeting3(token, me, other, faults)
        elif isinstance(token, Greeting20):
            me.generation, me.done = 2, True
            name = socket_type_name(token.socket_type)
            if token.socket_type in (9, 10):
                faults.append(Violation("ZMTP20-GREET-006", f"{name} announced as {name}"))
            me.set_socket_type({"XPUB": "PUB", "XSUB": "SUB"}.get(name, name))
            fields = [("revision", token.revision), ("socket_type", name)]
            fields.append(("identity", token.identity))
        else:
            me.generation, me.done = 1, True
            fields = [("identity", token.identity)]
        self._fast[d] = me.done and not me.subscriber
        self._emit_outcome(d, ts, Outcome(Kind.GREETING, None, tuple(fields), (), tuple(faults)))

    @staticmethod
    def _greeting3(
        token: Greeting, me: Peer, other: Peer, faults: list[Violation]
    ) -> list[tuple[str, FieldValue]]:
        me.generation, me.version = 3, (token.major, token.minor)
        me.mechanism, me.as_server = token.mechanism, token.as_server
        if token.mechanism not in handshake.HANDSHAKES:
            me.done = True  # an unknown mechanism: its handshake cannot be followed
        if token.mechanism == "NULL" and token.as_server:
            faults.append(Violation("ZMTP-NULL-001", "as-server is 1 with NULL"))
        if other.mechanism is not None and other.mechanism != token.mechanism:
            faults.append(
                Violation(
                    "ZMTP-GREET-010", f"mechanisms differ: {other.mechanism} and {me.mechanism}"
                )
            )
        if token.mechanism in ("PLAIN", "CURVE") and other.as_server is not None:
            if token.as_server != other.as_server:
                me.role = "server" if token.as_server else "client"
                other.role = "client" if token.as_server else "server"
            elif token.as_server:
                rule = f"{token.mechanism}-ROLE-001"
                faults.append(Violation(rule, "both sides announce as-server 1"))
        version = f"{token.major}.{token.minor}"
        return [
            ("version", version),
            ("mechanism", token.mechanism),
            ("as_server", token.as_server),
        ]

    # ----------------------------------------------------------------- output

    def _relabel(self) -> None:
        a, b = self.peers
        gen = generation_label(a, b)
        mech = a.mechanism or b.mechanism
        self._labels[0] = (gen, mech, a.socket_type, b.socket_type)
        self._labels[1] = (gen, mech, b.socket_type, a.socket_type)

    def _emit(
        self,
        d: int,
        ts: float,
        kind: Kind,
        name: str | None = None,
        fields: tuple[tuple[str, FieldValue], ...] = (),
        frames: tuple[bytes, ...] = (),
        violations: list[Violation] | tuple[Violation, ...] = (),
    ) -> None:
        gen, mech, src_type, dst_type = self._labels[d]
        ends = self.ends
        event = (ts, self.stream, ends[d], ends[1 - d], kind, gen, mech, src_type, dst_type)
        self.sink.append(Event._make((*event, name, fields, frames, tuple(violations))))
