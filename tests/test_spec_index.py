"""spec/requirements.toml and the spec/*.md prose agree, and every cited id exists."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from zmtp.spec import LEVELS, UnknownRequirement, requirement, requirements

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
ID = r"(?:ZMTP|ZMTP20|ZMTP10|PLAIN|CURVE|CURVEZMQ|ZAP|Z85|SEC|SOCK|PAT)(?:-[A-Z0-9]+)+-\d{3}"
#: A rule in the prose: "- **ID** · LEVEL · role · source — text".
RULE = re.compile(rf"^\s*[-*] \*\*({ID})\*\* · (MUST|SHOULD|MAY) · ", re.M)


def index_entries() -> list[dict[str, object]]:
    with (SPEC / "requirements.toml").open("rb") as f:
        entries: list[dict[str, object]] = tomllib.load(f)["requirement"]
    return entries


def prose_rules() -> dict[str, tuple[str, str]]:
    """id -> (level, file) for every rule defined in the prose; duplicates fail."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(SPEC.glob("*.md")):
        if path.name in ("README.md", "errata.md"):  # conventions and commentary, no rules
            continue
        for match in RULE.finditer(path.read_text()):
            assert match.group(1) not in found, f"{match.group(1)} defined twice in the prose"
            found[match.group(1)] = (match.group(2), path.name)
    return found


def test_index_ids_are_unique_and_well_formed() -> None:
    entries = index_entries()
    counts = Counter(e["id"] for e in entries)
    assert [i for i, n in counts.items() if n > 1] == []
    for entry in entries:
        assert re.fullmatch(ID, str(entry["id"])), entry["id"]
        assert entry["level"] in LEVELS, entry
        assert (SPEC / str(entry["doc"])).is_file(), entry
        assert all(isinstance(n, int) for n in entry["rfc"]), entry  # type: ignore[attr-defined]
        assert entry["summary"], entry
        assert entry["role"], entry


def test_prose_and_index_list_the_same_rules() -> None:
    prose = prose_rules()
    index = {str(e["id"]): (str(e["level"]), str(e["doc"])) for e in index_entries()}
    assert sorted(set(prose) - set(index)) == []
    assert sorted(set(index) - set(prose)) == []
    assert {i: v for i, v in prose.items() if index[i] != v} == {}


def test_every_area_is_covered() -> None:
    ids = requirements()
    assert len(ids) >= 150
    for prefix in ("ZMTP-GREET", "ZMTP-FRAME", "ZMTP-NULL", "ZMTP-HB", "ZMTP20", "ZMTP10",
                   "PLAIN", "CURVE", "ZAP", "Z85", "SOCK-COMPAT", "PAT-REQ", "PAT-ROUTER",
                   "PAT-XPUB", "PAT-PUSH", "PAT-PAIR", "PAT-CLIENT", "PAT-RADIO", "PAT-DISH",
                   "PAT-SCATTER", "PAT-GATHER", "PAT-PEER", "PAT-CHANNEL"):  # fmt: skip
        assert any(i.startswith(prefix + "-") for i in ids), prefix


def cited_ids() -> dict[str, set[str]]:
    """Every requirement id mentioned in code, tests, tools and errata, by file."""
    cited: dict[str, set[str]] = {}
    paths = [SPEC / "errata.md", ROOT / "README.md"]
    for folder in ("zmtp", "tests", "tools", "conformance"):
        paths += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".toml", ".md"}]
    for path in paths:
        if path.is_file() and path.name != "requirements.toml":
            ids = set(re.findall(rf"\b{ID}\b", path.read_text()))
            if ids:
                cited[str(path.relative_to(ROOT))] = ids
    return cited


def test_every_cited_id_exists() -> None:
    known = set(requirements())
    unknown = {path: sorted(ids - known) for path, ids in cited_ids().items() if ids - known}
    assert unknown == {}


def test_requirement_lookup() -> None:
    rule = requirement("ZMTP-FRAME-002")
    assert rule.level == "MUST"
    assert 23 in rule.rfc or 37 in rule.rfc
    assert "§" in rule.source
    with pytest.raises(UnknownRequirement, match="ZMTP-NOPE-0001"):
        requirement("ZMTP-NOPE-0001")
