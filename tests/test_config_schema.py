"""The JSON Schema: valid 2020-12, in step with the models, and the examples conform to it."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from reconciler.config.paths import PATH_PATTERN
from reconciler.config.schema import SCHEMA_ID, config_schema
from reconciler.model import desired
from reconciler.wire.enums import StorageItemType

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DEFS = config_schema()["$defs"]


def _validator(kind: str | None) -> Draft202012Validator:
    schema = config_schema()
    if kind is None:
        return Draft202012Validator(schema)
    registry: Registry[Any] = Registry().with_resource(SCHEMA_ID, Resource.from_contents(schema))
    return Draft202012Validator({"$ref": f"{SCHEMA_ID}#/$defs/{kind}"}, registry=registry)


def test_schema_is_valid_2020_12_with_versioned_id() -> None:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://reconciler.dev/schemas/config/v1.json"


def test_top_level_schemas_symlink_serves_the_same_file() -> None:
    assert (ROOT / "schemas" / "config.schema.json").read_bytes() == (
        ROOT / "reconciler" / "schemas" / "config.schema.json"
    ).read_bytes()


def _literal(tp: Any) -> list[str]:
    return list(typing.get_args(tp))


def test_enums_match_the_models() -> None:
    props = DEFS["document"]["properties"]
    assert DEFS["role"]["enum"] == _literal(desired.Role)
    assert DEFS["metadata_mode"]["enum"] == _literal(desired.MetadataMode)
    assert DEFS["policy"]["properties"]["prune"]["enum"] == _literal(desired.PruneMode)
    assert DEFS["dataset"]["properties"]["unlink"]["enum"] == _literal(desired.UnlinkMode)
    assert DEFS["collection"]["properties"]["remove"]["enum"] == _literal(desired.UnlinkMode)
    assert DEFS["cloud_sync"]["properties"]["sync"]["enum"] == _literal(desired.SyncMode)
    sandbox = DEFS["sandbox_target"]["properties"]
    integration = sandbox["integrations"]["additionalProperties"]
    assert integration["properties"]["provider"]["enum"] == _literal(desired.Provider)
    user = sandbox["users"]["items"]["properties"]
    assert user["role"]["enum"] == _literal(desired.OrganisationRole)
    assert DEFS["item_type"]["enum"] == [t.value for t in StorageItemType]
    assert set(props) == {
        "version",
        "target",
        "ownership",
        "policy",
        "include",
        "exclude",
        "variables",
        "environments",
        "in_environments",
        "templates",
        "folders",
        "groups",
        "items",
        "datasets",
        "collections",
        "users",
        "metadata_schema",
        "organisation_tags",
    }
    assert DEFS["org_role"]["enum"] == [r.lower() for r in _literal(desired.OrganisationRole)]
    org_user = DEFS["org_user"]["else"]["properties"]
    assert org_user["type"]["enum"] == _literal(desired.MemberType)
    assert DEFS["policy"]["properties"]["users"]["enum"] == _literal(desired.UsersMode)


def test_policy_keys_match_the_model() -> None:
    assert set(DEFS["policy"]["properties"]) == {f.name for f in dataclasses.fields(desired.Policy)}


def test_path_pattern_is_shared_with_manifest_checks() -> None:
    assert DEFS["path"]["pattern"] == PATH_PATTERN


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/a", True),
        ("/a/b c/d.e", True),
        ("/..a/b..", True),
        ("/", False),
        ("a/b", False),
        ("/a/", False),
        ("/a//b", False),
        ("/a/./b", False),
        ("/a/../b", False),
        ("/.", False),
        ("/a/\tb", False),
    ],
)
def test_path_pattern(path: str, ok: bool) -> None:
    assert (re.search(DEFS["path"]["pattern"], path) is not None) is ok


def _sdk_key_rule(value: str) -> bool:
    """The official SDK's client-side rule (encord.metadata_schema._is_valid_metadata_key)."""
    if value.startswith("$") or value == "":
        return False
    for extra in ["-", "_", " ", "."]:
        value = value.replace(extra, "")
    if value == "" or value == "keyframes":
        return False
    return value.isalnum()


@pytest.mark.parametrize(
    "key",
    [
        "split",
        "qa.status",
        "a b",
        "x-1_y.z",
        "Ünïcode",
        "keyframes",
        "key_frames",
        "k.e.y.f.r.a.m.e.s",
        "keyframesx",
        "$x",
        "",
        "-",
        "._ ",
        "a/b",
        "a:b",
        "emoji🙂",
        "tab\tkey",
        "_a",
        "1",
    ],
)
def test_metadata_key_pattern_agrees_with_the_sdk(key: str) -> None:
    pattern = DEFS["metadata_key"]["pattern"]
    assert (re.search(pattern, key) is not None) is _sdk_key_rule(key)


def test_sdk_key_rule_copy_matches_the_installed_sdk() -> None:
    sdk = pytest.importorskip("encord.metadata_schema")
    for key in ["split", "keyframes", "key_frames", "$x", "", "a/b", "Ünïcode"]:
        assert sdk._is_valid_metadata_key(key) is _sdk_key_rule(key)


def _example_files() -> list[Path]:
    return sorted(
        p
        for example in ("quickstart", "realistic")
        for p in (EXAMPLES / example).rglob("*.yaml")
        if "buckets" not in p.parts
    )


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_examples_conform_to_the_schema(path: Path) -> None:
    text = path.read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../schemas/config.schema.json\n"
    ) or (text.startswith("# yaml-language-server: $schema=../../../schemas/config.schema.json\n"))
    data = yaml.safe_load(text)
    kind = "settings_file" if path.name == "reconciler.yaml" else "resource_file"
    assert list(_validator(kind).iter_errors(data)) == []
    assert list(_validator(None).iter_errors(data)) == []


def test_examples_schema_line_resolves_to_the_schema() -> None:
    for path in _example_files():
        first = path.read_text().splitlines()[0]
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert target == (ROOT / "reconciler" / "schemas" / "config.schema.json").resolve()


def test_root_schema_for_editors_requires_settings_together() -> None:
    errors = list(_validator(None).iter_errors({"version": 1}))
    assert {e.validator for e in errors} == {"dependentRequired"}
    assert list(_validator(None).iter_errors({"folders": {"/a": None}})) == []


def test_resource_files_refuse_settings() -> None:
    errors = list(_validator("resource_file").iter_errors({"target": {"sandbox": {}}}))
    assert errors and all("propertyNames" in e.absolute_schema_path for e in errors)


@pytest.mark.parametrize(
    "document",
    [
        {"version": 1, "target": {"sandbox": {}}, "ownership": {"id": "ab"}},
        {"version": 1, "target": {"encord": {}}, "ownership": {"id": "a.b-c_d"}},
        {
            "version": 1,
            "target": {"encord": {"domain": "https://api.encord.com", "ssh_key_file": "k"}},
            "ownership": {"id": "team1"},
            "metadata_schema": {
                "a": "number",
                "b": {"type": "varchar", "max_length": 10},
                "c": {"type": "enum", "values": ["x"]},
                "d": {"type": "embedding", "size": 4},
                "e": {"type": "datetime"},
            },
        },
    ],
)
def test_minimal_settings_files_are_valid(document: dict[str, Any]) -> None:
    assert list(_validator("settings_file").iter_errors(document)) == []


@pytest.mark.parametrize("kind", ["settings_file", "resource_file"])
def test_inlined_validator_agrees_with_the_reference_one(kind: str) -> None:
    """The loader validates against an inlined copy (speed); errors must be the same."""
    from reconciler.config.schema import _validator, reference_validator

    documents: list[Any] = [
        {},
        [],
        {"version": 2, "target": {"encord": {}, "sandbox": {}}, "ownership": {}},
        {"folders": {"/a/": {"groups": {"g": "owner"}, "previously": ["x"]}}},
        {"items": [{"manifest": "a.txt"}, {"folder": "/a"}, 5]},
        {"datasets": {"d": {"items": [{"folder": "a", "match": {"type": "vidoe"}}]}}},
        {"metadata_schema": {"$x": "number", "k": {"type": "enum"}, "j": "enum"}},
        {"target": {"sandbox": {"users": [{"email": "x"}]}}, "policy": {"prune": "x"}},
    ]
    for document in documents:

        def key(e: Any) -> tuple[Any, ...]:
            return (tuple(e.absolute_path), e.validator, e.message)

        inlined = sorted(map(key, _validator(kind).iter_errors(document)))
        reference = sorted(map(key, reference_validator(kind).iter_errors(document)))
        assert inlined == reference
