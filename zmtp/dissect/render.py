"""Events as text lines (like tshark) and as JSON objects (schema in spec/dissect.md).

Octets are shown as quoted text when they are printable ASCII and as hex digits
otherwise, cut after ``limit`` octets with their full length; a limit of 0 shows all.
Both renderers are pure functions of the event and a start time, so that their output
can be checked line by line in tests.
"""

from __future__ import annotations

import json
from typing import Any

from zmtp.dissect.events import Event, FieldValue, Kind

TEXT_LIMIT = 64
JSON_LIMIT = 256
_PRINTABLE = frozenset(range(0x20, 0x7F))


def show(data: bytes, limit: int = TEXT_LIMIT) -> str:
    """``"text"`` or hex digits, cut to ``limit`` octets with ``… (N octets)``."""
    cut = data[:limit] if limit and len(data) > limit else data
    if _PRINTABLE.issuperset(cut):
        text = cut.decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
        shown = f'"{text}"'
    else:
        shown = cut.hex()
    if cut is not data:
        shown += f"… ({len(data)} octets)"
    return shown


def _value(value: FieldValue, limit: int) -> str:
    if isinstance(value, bytes):
        return show(value, limit)
    if isinstance(value, tuple):
        return " ".join(f"{name}={show(raw, limit)}" for name, raw in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _details(event: Event, limit: int) -> str:
    fields = dict(event.fields)
    kind = event.kind
    if kind == Kind.MESSAGE:
        frames = event.frames
        if len(frames) == 1:
            text = f"MESSAGE {show(frames[0], limit)}"
        else:
            shown = " ".join(f"[{i}] {show(f, limit)}" for i, f in enumerate(frames))
            text = f"MESSAGE {len(frames)} frames: {shown}"
        if "subscribe" in fields:
            verb = "SUBSCRIBE" if fields["subscribe"] else "CANCEL"
            text += f" ({verb} {_value(fields['topic'], limit)})"
        if fields.get("box") == "decrypted":
            text += " (decrypted)"
        return text
    if kind == Kind.GREETING:
        return _greeting(event, fields, limit)
    if kind == Kind.COMMAND and event.name == "MESSAGE" and fields.get("box") != "decrypted":
        size = _value(fields.get("size"), limit)
        state = _value(fields.get("box", "malformed"), limit)
        nonce = f" nonce={_value(fields['nonce'], limit)}" if "nonce" in fields else ""
        return f"MESSAGE ({state}, {size} octets){nonce}"
    if kind in _PLAIN_WORDS:
        return _PLAIN_WORDS[kind](fields)
    head = event.name if kind == Kind.COMMAND and event.name else str(kind.value).upper()
    parts = [
        _value(v, limit) if k == "metadata" else f"{k}={_value(v, limit)}" for k, v in event.fields
    ]
    return " ".join([head, *parts])


def _left(fields: dict[str, FieldValue]) -> str:
    octets = fields.get("octets")
    held = "an unknown number of" if octets == -1 else str(octets)
    return f"TRUNCATED the capture ends with {held} octets of an incomplete frame"


_PLAIN_WORDS = {
    Kind.GAP: lambda f: f"GAP {f.get('octets')!s} octets missing from the capture",
    Kind.CLOSE: lambda f: f"CLOSE ({f.get('how')!s})",
    Kind.NOTE: lambda f: f"NOTE {f.get('note')!s}",
    Kind.TRUNCATED: _left,
}


def _greeting(event: Event, fields: dict[str, FieldValue], limit: int) -> str:
    if "mechanism" in fields:  # 3.x
        role = "as-server" if fields.get("as_server") else "as-client"
        return f"GREETING {_value(fields.get('version'), limit)} {fields['mechanism']!s} {role}"
    version = "2.0" if "revision" in fields else "1.0"
    parts = [f"{k}={_value(v, limit)}" for k, v in event.fields]
    return f"GREETING {version} " + " ".join(parts)


def text_line(event: Event, start: float, limit: int = TEXT_LIMIT) -> str:
    """One line: time, stream, direction, generation, mechanism, types, what, faults."""
    gen = f"ZMTP/{event.generation}" if event.generation else "ZMTP/?"
    types = f"{event.src_type or '?'}→{event.dst_type or '?'}"
    line = (
        f"{event.time - start:11.6f} {event.stream:3d} {event.src} → {event.dst}  "
        f"{gen} {event.mechanism or '-'} {types}  {_details(event, limit)}"
    )
    for fault in event.violations:
        line += f"  !! {fault.requirement or 'violation'}: {fault.message}"
    return line


def _octets(data: bytes, limit: int) -> dict[str, Any]:
    cut = data[:limit] if limit and len(data) > limit else data
    out: dict[str, Any] = {"size": len(data)}
    if _PRINTABLE.issuperset(cut):
        out["text"] = cut.decode("ascii")
    else:
        out["hex"] = cut.hex()
    if cut is not data:
        out["cut"] = True
    return out


def _json_value(value: FieldValue, limit: int) -> Any:
    if isinstance(value, bytes):
        return _octets(value, limit)
    if isinstance(value, tuple):
        return [{"name": name, "value": _octets(raw, limit)} for name, raw in value]
    return value


def json_object(event: Event, start: float, limit: int = JSON_LIMIT) -> dict[str, Any]:
    """The JSON form of an event, as ``spec/dissect.md`` specifies it."""
    out: dict[str, Any] = {
        "time": event.time,
        "rel": round(event.time - start, 9),
        "stream": event.stream,
        "src": event.src,
        "dst": event.dst,
        "event": event.kind.value,
        "zmtp": event.generation,
        "mechanism": event.mechanism,
        "src_type": event.src_type,
        "dst_type": event.dst_type,
    }
    if event.kind == Kind.COMMAND:
        out["command"] = event.name
    out["fields"] = {name: _json_value(value, limit) for name, value in event.fields}
    if event.kind == Kind.MESSAGE:
        out["frames"] = [_octets(frame, limit) for frame in event.frames]
    out["violations"] = [
        {"requirement": v.requirement, "message": v.message} for v in event.violations
    ]
    return out


def json_line(event: Event, start: float, limit: int = JSON_LIMIT) -> str:
    return json.dumps(json_object(event, start, limit), ensure_ascii=False)


class Renderer:
    """Writes each event as a line to ``write``; times count from the first event."""

    def __init__(self, write: Any, *, as_json: bool = False, limit: int | None = None) -> None:
        self._write = write
        self._json = as_json
        self._limit = limit if limit is not None else (JSON_LIMIT if as_json else TEXT_LIMIT)
        self._start: float | None = None
        self.violations = 0
        self.events = 0

    def __call__(self, event: Event) -> None:
        if self._start is None:
            self._start = event.time
        self.events += 1
        if event.violations:
            self.violations += len(event.violations)
        render = json_line if self._json else text_line
        self._write(render(event, self._start, self._limit) + "\n")
