"""Organisation routes: groups and members, organisation users, integrations, metadata schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_data.harness import ADMIN, Harness, open_harness

from reconciler.sandbox.provision import add_integration
from reconciler.wire.base import Page
from reconciler.wire.org import Group, OrganisationUser

MISSING = "7e88ed37-51c2-49a2-ae75-c91809824dd2"


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def add_member(sb: Harness, email: str, role: str = "MEMBER", member_type: str = "internal") -> int:
    body = {"email": email, "roleMnemonicName": role, "memberType": member_type}
    return sb.post("/organisation/users", body).status_code


def test_groups_lifecycle(sb: Harness) -> None:
    created = sb.ok(
        sb.post("/organisation/groups", {"name": "Pr\u00fcfer \u2013 QA", "description": "\u00fc"})
    )
    Group.model_validate(created)
    assert (created["name"], created["description"]) == ("Prüfer – QA", "ü")
    group = created["groupHash"]
    assert sb.ok(sb.get(f"/organisation/groups/{group}")) == created
    renamed = sb.ok(sb.patch(f"/organisation/groups/{group}", {"name": "qa"}))
    assert (renamed["name"], renamed["description"]) == ("qa", "ü")
    both = sb.ok(sb.patch(f"/organisation/groups/{group}", {"description": "both"}))
    assert (both["name"], both["description"]) == ("qa", "both")
    listed = sb.ok(sb.get("/user/current-organisation/groups"))
    Page[Group].model_validate(listed)
    assert [g["groupHash"] for g in listed["results"]] == [group]
    assert sb.delete(f"/organisation/groups/{group}").status_code == 204
    assert sb.get(f"/organisation/groups/{group}").status_code == 404
    assert sb.delete(f"/organisation/groups/{group}").status_code == 404
    assert sb.post("/organisation/groups", {"name": " ", "description": ""}).status_code == 400


def test_group_members(sb: Harness) -> None:
    assert add_member(sb, "m@example.com") == 204
    assert add_member(sb, "t@example.com", "TASKER", "external") == 204
    group = sb.group("annotators")
    users = f"/organisation/groups/{group}/users"
    assert sb.ok(sb.get(users))["results"] == [{"userEmail": ADMIN}]  # creator first
    whole = sb.ok(sb.post(users, {"userEmails": ["m@example.com", "t@example.com"]}))
    assert [u["userEmail"] for u in whole["results"]] == [ADMIN, "m@example.com", "t@example.com"]
    again = sb.ok(sb.post(users, {"userEmails": ["m@example.com"]}))
    assert again == whole
    outsider = sb.post(users, {"userEmails": ["m@example.com", "nobody@example.com"]})
    assert outsider.status_code == 403 and "nobody@example.com" in outsider.json()["message"]
    removed = sb.post(
        f"{users}/bulk-delete", {"userEmails": ["t@example.com", "not-in-group@example.com"]}
    )
    assert removed.status_code == 204
    assert [u["userEmail"] for u in sb.ok(sb.get(users))["results"]] == [ADMIN, "m@example.com"]


def test_organisation_users(sb: Harness) -> None:
    assert add_member(sb, "a+b@example.com", "MEMBER", "external") == 204
    assert add_member(sb, "wfm@example.com", "WORKFORCE_MANAGER") == 204
    assert add_member(sb, "a+b@example.com") == 409
    assert add_member(sb, "ext@example.com", "ADMIN", "external") == 400
    assert add_member(sb, "x@example.com", "OWNER") == 400
    listed = sb.ok(sb.get("/organisation/users"))
    Page[OrganisationUser].model_validate(listed)
    roles = {u["email"]: (u["roleMnemonicName"], u["memberType"]) for u in listed["results"]}
    assert roles == {
        ADMIN: ("ADMIN", "internal"),
        "a+b@example.com": ("MEMBER", "external"),
        "wfm@example.com": ("WORKFORCE_MANAGER", "internal"),
    }
    uuids = {u["roleMnemonicName"]: u["roleUuid"] for u in listed["results"]}
    assert len(set(uuids.values())) == 3
    group = sb.group("g", ("a+b@example.com",))
    assert sb.delete("/organisation/users/a%2Bb%40example.com").status_code == 204
    assert sb.delete("/organisation/users/nobody%40example.com").status_code == 404
    assert [
        u["userEmail"] for u in sb.ok(sb.get(f"/organisation/groups/{group}/users"))["results"]
    ] == [ADMIN]
    assert add_member(sb, "a+b@example.com") == 204  # re-adding a removed member works
    assert (
        sb.delete(f"/organisation/users/{ADMIN.replace('@', '%40')}").status_code == 400
    )  # last admin


def test_cloud_integrations(sb: Harness, tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    one = add_integration(
        sb.db_path, title="my-s3-integration", provider="s3", root=tmp_path / "bucket"
    )
    two = add_integration(sb.db_path, title="other", provider="gcp", root=tmp_path / "bucket")
    every = sb.ok(sb.get("/cloud-integrations", query=[("includeOrgAccess", False)]))
    assert every == {
        "result": [
            {"integrationUuid": one, "title": "my-s3-integration"},
            {"integrationUuid": two, "title": "other"},
        ]
    }
    by_title = sb.ok(
        sb.get("/cloud-integrations", query=[("filterIntegrationTitles", ["other", "x"])])
    )
    assert [i["integrationUuid"] for i in by_title["result"]] == [two]
    by_uuid = sb.ok(sb.get("/cloud-integrations", query=[("filterIntegrationUuids", [one])]))
    assert [i["title"] for i in by_uuid["result"]] == ["my-s3-integration"]


def test_metadata_schema_v2_and_legacy(sb: Harness) -> None:
    assert sb.ok(sb.get("/organisation/client-metadata-schema-v2")) is None
    assert sb.ok(sb.get("/organisation/client-metadata-schema")) is None
    schema = {
        "caption": {"ty": "text"},
        "score": {"ty": "number", "format": "F64"},
        "split": {"ty": "enum", "values": ["train", "val"]},
        "reviewed": {"ty": "variant", "hint": "boolean"},
        "k": {"ty": "varchar", "max_length": 100},
        "emb": {"ty": "embedding", "size": 8, "api": None},
        "old": {"ty": "tombstone", "deleted_ty": {"ty": "text"}},
    }
    assert sb.post("/organisation/client-metadata-schema-v2", schema).status_code == 204
    assert sb.ok(sb.get("/organisation/client-metadata-schema-v2")) == schema
    legacy = sb.ok(sb.get("/organisation/client-metadata-schema"))
    assert legacy["metadataSchema"] == {
        "caption": "long_string",
        "score": "number",
        "split": "enum",
        "reviewed": "boolean",
        "k": "string",
        "emb": "embedding",
    }
    assert isinstance(legacy["organisationId"], int) and legacy["uuid"]
    assert (
        sb.post(
            "/organisation/client-metadata-schema", {"metadataSchema": {"n": "number"}}
        ).status_code
        == 204
    )
    assert sb.ok(sb.get("/organisation/client-metadata-schema-v2")) == {
        "n": {"ty": "number", "format": "F64"}
    }


@pytest.mark.parametrize(
    "schema",
    [
        [],
        {"k": "text"},
        {"k": {"ty": "colour"}},
        {"k": {"ty": "number", "format": "F16"}},
        {"k": {"ty": "varchar", "max_length": 9000}},
        {"k": {"ty": "enum", "values": []}},
        {"k": {"ty": "embedding", "size": 0}},
        {"k": {"ty": "variant", "hint": "colour"}},
        {"k": {"ty": "tombstone", "deleted_ty": {"ty": "tombstone"}}},
        {"k": {"ty": "text", "extra": 1}},
        {"$k": {"ty": "text"}},
        {"keyframes": {"ty": "text"}},
        {"a/b": {"ty": "text"}},
    ],
)
def test_bad_schemas_are_refused_and_change_nothing(sb: Harness, schema: object) -> None:
    response = sb.post("/organisation/client-metadata-schema-v2", schema)
    assert response.status_code == 400 and response.json()["message"]
    assert sb.ok(sb.get("/organisation/client-metadata-schema-v2")) is None


def test_organisation_tags_are_empty(sb: Harness) -> None:
    assert sb.ok(sb.get("/organisation/organisation-tags")) == {
        "results": [],
        "nextPageToken": None,
    }
