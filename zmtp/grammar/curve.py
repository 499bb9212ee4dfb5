"""CURVE handshake and MESSAGE command bodies, and the plaintexts of their boxes.

RFC 25 (ZMTP-CURVE) and RFC 26 (CurveZMQ); see spec/security.md. A "box" is
crypto_box output: the plaintext plus a 16-octet authenticator. Nonces on the wire are
the variable part only; the full 24-octet nonce is a fixed 16- or 8-octet prefix (for
example ``CurveZMQHELLO---``) followed by them (:data:`NONCE_PREFIXES`).
"""

from __future__ import annotations

import construct as c
from construct import this

from zmtp.grammar._common import literal, named
from zmtp.grammar.metadata import Metadata

KEY_SIZE = 32
BOX_OVERHEAD = 16

#: Prefix of each box's 24-octet nonce, by box.
NONCE_PREFIXES = {
    "hello": b"CurveZMQHELLO---",
    "welcome": b"WELCOME-",
    "cookie": b"COOKIE--",
    "initiate": b"CurveZMQINITIATE",
    "vouch": b"VOUCH---",
    "ready": b"CurveZMQREADY---",
    "message_client": b"CurveZMQMESSAGEC",
    "message_server": b"CurveZMQMESSAGES",
}

#: The box in HELLO seals 64 zero octets.
HelloBox = named(c.Const(bytes(64)), "zmtp.grammar.curve.HelloBox")

#: hello = %d5 "HELLO" version(1.0) padding(72 zeros) client-short-key nonce(8)
#: signature-box(80): 200 octets in all, larger than WELCOME (anti-amplification).
Hello = named(
    c.Struct(
        literal(b"HELLO"),
        c.Const(b"\x01\x00"),
        c.Const(bytes(72)),
        "client_short_key" / c.Bytes(KEY_SIZE),
        "nonce" / c.Bytes(8),
        "box" / c.Bytes(64 + BOX_OVERHEAD),
    ),
    "zmtp.grammar.curve.Hello",
)

#: The cookie the server hands the client: nonce(16) and a box(80) only the server
#: can open, holding the client's and the server's short-term keys.
Cookie = named(
    c.Struct("nonce" / c.Bytes(16), "box" / c.Bytes(2 * KEY_SIZE + BOX_OVERHEAD)),
    "zmtp.grammar.curve.Cookie",
)

#: Plaintext of the cookie box: client short-term public key, server short-term secret key.
CookieBox = named(
    c.Struct("client_short_key" / c.Bytes(KEY_SIZE), "server_short_secret" / c.Bytes(KEY_SIZE)),
    "zmtp.grammar.curve.CookieBox",
)

#: welcome = %d7 "WELCOME" nonce(16) box(144).
Welcome = named(
    c.Struct(literal(b"WELCOME"), "nonce" / c.Bytes(16), "box" / c.Bytes(128 + BOX_OVERHEAD)),
    "zmtp.grammar.curve.Welcome",
)

#: Plaintext of the WELCOME box: server short-term public key and the cookie.
WelcomeBox = named(
    c.Struct("server_short_key" / c.Bytes(KEY_SIZE), "cookie" / Cookie),
    "zmtp.grammar.curve.WelcomeBox",
)

#: Plaintext of the vouch box: client short-term key and server long-term key.
Vouch = named(
    c.Struct("client_short_key" / c.Bytes(KEY_SIZE), "server_key" / c.Bytes(KEY_SIZE)),
    "zmtp.grammar.curve.Vouch",
)

#: initiate = %d8 "INITIATE" cookie(96) nonce(8) box(144 or more).
Initiate = named(
    c.Struct(
        literal(b"INITIATE"),
        "cookie" / Cookie,
        "nonce" / c.Bytes(8),
        "box" / c.GreedyBytes,
        c.Check(c.len_(this.box) >= KEY_SIZE + 16 + 80 + BOX_OVERHEAD),
    ),
    "zmtp.grammar.curve.Initiate",
)

#: Plaintext of the INITIATE box: client long-term key, vouch nonce(16), vouch box(80),
#: metadata.
InitiateBox = named(
    c.Struct(
        "client_key" / c.Bytes(KEY_SIZE),
        "vouch_nonce" / c.Bytes(16),
        "vouch_box" / c.Bytes(2 * KEY_SIZE + BOX_OVERHEAD),
        "metadata" / Metadata,
    ),
    "zmtp.grammar.curve.InitiateBox",
)

#: ready = %d5 "READY" nonce(8) box(16 or more); the box seals the server's metadata.
Ready = named(
    c.Struct(
        literal(b"READY"),
        "nonce" / c.Bytes(8),
        "box" / c.GreedyBytes,
        c.Check(c.len_(this.box) >= BOX_OVERHEAD),
    ),
    "zmtp.grammar.curve.Ready",
)

#: Plaintext of the READY box: metadata.
ReadyBox = named(Metadata, "zmtp.grammar.curve.ReadyBox")

#: message = %d7 "MESSAGE" nonce(8) box(17 or more): one sealed message frame.
Message = named(
    c.Struct(
        literal(b"MESSAGE"),
        "nonce" / c.Bytes(8),
        "box" / c.GreedyBytes,
        c.Check(c.len_(this.box) >= 1 + BOX_OVERHEAD),
    ),
    "zmtp.grammar.curve.Message",
)

#: Plaintext of a MESSAGE box: flags and the frame body. Bit 0 is MORE; libzmq also sets
#: bit 1 for a command (PING, SUBSCRIBE, ...) sent after the handshake, which RFC 26 does
#: not describe (spec/errata.md); the other bits are zero.
MessageBox = named(
    c.Struct(
        "flags"
        / c.BitStruct(
            c.Const(0, c.BitsInteger(6)),
            "command" / c.Default(c.Flag, False),
            "more" / c.Default(c.Flag, False),
        ),
        "data" / c.GreedyBytes,
    ),
    "zmtp.grammar.curve.MessageBox",
)
