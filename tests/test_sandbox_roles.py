"""Role enforcement: organisation admins see everything; members see and change only what they
own or their groups were granted, with ``admin`` needed to change; forbidden calls change
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import Harness, open_harness

ALICE = "alice@example.com"
ADMIN = "admin@example.com"


@dataclass
class Tree:
    team: dict[str, Any]
    sub: dict[str, Any]
    other: dict[str, Any]
    item: str


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        harness.as_member(ALICE)
        yield harness


@pytest.fixture
def tree(sb: Harness) -> Tree:
    team = sb.folder("team", description="t")
    sub = sb.folder("sub", team["uuid"])
    other = sb.folder("other")
    [item] = sb.add_items(sub["uuid"], ["a.png"])
    return Tree(team, sub, other, item)


def visible_roots(sb: Harness, who: str) -> list[str]:
    return sorted(f["name"] for f in sb.ok(sb.get("/storage/folders", who=who))["results"])


def test_a_member_without_grants_sees_nothing_but_its_own(sb: Harness, tree: Tree) -> None:
    assert visible_roots(sb, ALICE) == []
    assert sb.get(f"/storage/folders/{tree.team['uuid']}", who=ALICE).status_code == 403
    assert sb.get(f"/storage/items/{tree.item}", who=ALICE).status_code == 403
    own = sb.folder("mine", who=ALICE)
    assert (own["owner"], own["userRole"]) == (ALICE, "admin")
    child = sb.folder("mine-child", own["uuid"], who=ALICE)
    assert child["userRole"] == "admin"
    assert visible_roots(sb, ALICE) == ["mine"]
    searched = sb.ok(sb.get("/storage/search/folders", query=[("search", "u")], who=ALICE))
    assert searched["results"] == []


def test_org_admins_list_the_organisation_only_when_they_ask(sb: Harness, tree: Tree) -> None:
    """Organisation-wide listings show an admin its own access unless ``includeOrgAccess``;
    direct reads and changes are never restricted."""
    mine = sb.folder("mine", who=ALICE)
    dataset = sb.ok(
        sb.post("/datasets", {"title": "alice-ds", "createBackingFolder": False}, who=ALICE)
    )
    everything = [("includeOrgAccess", True)]
    assert visible_roots(sb, ADMIN) == ["other", "team"]
    assert sorted(
        f["name"] for f in sb.ok(sb.get("/storage/folders", query=everything))["results"]
    ) == ["mine", "other", "team"]
    found = sb.ok(sb.get("/storage/search/folders", query=[("search", "mine")]))["results"]
    assert found == []
    found = sb.ok(sb.get("/storage/search/folders", query=[("search", "mine"), *everything]))[
        "results"
    ]
    assert [(f["uuid"], f["userRole"]) for f in found] == [(mine["uuid"], "admin")]
    assert sb.ok(sb.get(f"/storage/folders/{mine['uuid']}"))["userRole"] == "admin"
    assert (
        sb.patch(f"/storage/folders/{mine['uuid']}", {"description": "admin was here"}).status_code
        == 200
    )
    listed = sb.ok(sb.get("/datasets/list", query=[("includeOrgAccess", False)]))["result"]
    assert listed == []
    listed = sb.ok(sb.get("/datasets/list", query=everything))["result"]
    assert [(d["datasetUuid"], d["userRole"]) for d in listed] == [(dataset["datasetUuid"], None)]


def test_user_grant_reads_the_subtree_but_changes_nothing(sb: Harness, tree: Tree) -> None:
    readers = sb.group("readers", (ALICE,))
    sb.grant(tree.team["uuid"], readers, "user")
    team = sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}", who=ALICE))
    assert team["userRole"] == "user"
    sub = sb.ok(sb.get(f"/storage/folders/{tree.sub['uuid']}", who=ALICE))
    assert sub["userRole"] == "user"
    assert visible_roots(sb, ALICE) == ["team"]
    items = sb.ok(
        sb.get(
            f"/storage/folders/{tree.team['uuid']}/items", query=[("isRecursive", True)], who=ALICE
        )
    )
    assert [i["uuid"] for i in items["results"]] == [tree.item]
    forbidden = [
        sb.patch(f"/storage/folders/{tree.team['uuid']}", {"name": "hacked"}, who=ALICE),
        sb.post("/storage/folders", {"name": "x", "parent": tree.team["uuid"]}, who=ALICE),
        sb.delete(f"/storage/folders/{tree.sub['uuid']}", who=ALICE),
        sb.post("/storage/folders/move", {"folderUuids": [tree.sub["uuid"]]}, who=ALICE),
        sb.patch(
            f"/storage/folders/{tree.sub['uuid']}/items/{tree.item}", {"name": "z"}, who=ALICE
        ),
        sb.patch(
            "/storage/items/patch-bulk", {"itemPatches": {tree.item: {"name": "z"}}}, who=ALICE
        ),
        sb.post(
            f"/storage/folders/{tree.team['uuid']}/groups",
            {"groupHashList": [readers], "userRole": "admin"},
            who=ALICE,
        ),
    ]
    assert [r.status_code for r in forbidden] == [403] * len(forbidden)
    assert "admin role" in forbidden[0].json()["message"]
    assert sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}"))["name"] == "team"
    assert sb.ok(sb.get(f"/storage/folders/{tree.sub['uuid']}"))["parent"] == tree.team["uuid"]
    assert sb.ok(sb.get(f"/storage/items/{tree.item}"))["name"] == "a.png"
    assert (
        sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/folders"))["results"][0]["name"]
        == "sub"
    )
    grants = sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/groups"))["results"]
    assert [(g["name"], g["userRole"]) for g in grants] == [("readers", "user")]


def test_admin_grant_below_a_user_grant(sb: Harness, tree: Tree) -> None:
    readers = sb.group("readers", (ALICE,))
    editors = sb.group("editors", (ALICE,))
    sb.grant(tree.team["uuid"], readers, "user")
    sb.grant(tree.sub["uuid"], editors, "admin")
    sub = sb.ok(
        sb.patch(f"/storage/folders/{tree.sub['uuid']}", {"description": "mine now"}, who=ALICE)
    )
    assert (sub["userRole"], sub["description"]) == ("admin", "mine now")
    listed = sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/folders", who=ALICE))["results"]
    assert [(f["name"], f["userRole"]) for f in listed] == [("sub", "admin")]
    assert (
        sb.patch(
            f"/storage/folders/{tree.team['uuid']}", {"description": "x"}, who=ALICE
        ).status_code
        == 403
    )
    patched = sb.patch(
        f"/storage/folders/{tree.sub['uuid']}/items/{tree.item}",
        {"clientMetadata": {"k": 1}},
        who=ALICE,
    )
    assert patched.status_code == 200
    # Moving needs admin on the destination too.
    move = {"folderUuids": [tree.sub["uuid"]], "newParentUuid": tree.other["uuid"]}
    assert sb.post("/storage/folders/move", move, who=ALICE).status_code == 403
    direct = sb.ok(sb.get(f"/storage/folders/{tree.sub['uuid']}/groups"))["results"]
    assert [g["name"] for g in direct] == ["editors"]  # direct grants only, not inherited ones


def test_regranting_overwrites_and_revoking_or_deleting_the_group_removes_access(
    sb: Harness, tree: Tree
) -> None:
    readers = sb.group("readers", (ALICE,))
    sb.grant(tree.team["uuid"], readers, "user")
    sb.grant(tree.team["uuid"], readers, "admin")
    grants = sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/groups"))["results"]
    assert [(g["groupHash"], g["userRole"], g["isSameOrganisation"]) for g in grants] == [
        (readers, "admin", True)
    ]
    assert sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}", who=ALICE))["userRole"] == "admin"
    sb.ok(
        sb.delete(
            f"/storage/folders/{tree.team['uuid']}/groups", query=[("groupHashList", [readers])]
        )
    )
    assert sb.get(f"/storage/folders/{tree.team['uuid']}", who=ALICE).status_code == 403
    sb.grant(tree.team["uuid"], readers, "user")
    sb.ok(sb.delete(f"/organisation/groups/{readers}"))
    assert sb.get(f"/storage/folders/{tree.team['uuid']}", who=ALICE).status_code == 403
    assert sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/groups"))["results"] == []


def test_unknown_group_in_a_grant_is_404_and_changes_nothing(sb: Harness, tree: Tree) -> None:
    readers = sb.group("readers")
    body = {"groupHashList": [readers, "7e88ed37-51c2-49a2-ae75-c91809824dd2"], "userRole": "user"}
    assert sb.post(f"/storage/folders/{tree.team['uuid']}/groups", body).status_code == 404
    assert sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}/groups"))["results"] == []


def test_org_access_flag_and_org_admin_only_calls(sb: Harness, tree: Tree) -> None:
    assert (
        sb.get("/storage/folders", query=[("includeOrgAccess", True)], who=ALICE).status_code == 403
    )
    assert sb.get("/storage/folders", query=[("includeOrgAccess", True)]).status_code == 200
    user = {"email": "x@example.com", "roleMnemonicName": "MEMBER", "memberType": "internal"}
    assert sb.post("/organisation/users", user, who=ALICE).status_code == 403
    assert (
        sb.post(
            "/organisation/client-metadata-schema-v2", {"k": {"ty": "text"}}, who=ALICE
        ).status_code
        == 403
    )
    boss = sb.as_member("boss@example.com", org_role="ADMIN")
    assert sb.ok(sb.get(f"/storage/folders/{tree.team['uuid']}", who=boss))["userRole"] == "admin"


def test_group_management_needs_a_manager(sb: Harness) -> None:
    bob = sb.as_member("bob@example.com")
    admins_group = sb.group("ops")
    add = {"userEmails": [ALICE]}
    assert sb.post(f"/organisation/groups/{admins_group}/users", add, who=bob).status_code == 403
    assert (
        sb.patch(f"/organisation/groups/{admins_group}", {"name": "mine"}, who=bob).status_code
        == 403
    )
    assert sb.delete(f"/organisation/groups/{admins_group}", who=bob).status_code == 403
    own = sb.group("bobs", who=bob)
    members = sb.ok(sb.post(f"/organisation/groups/{own}/users", add, who=bob))["results"]
    assert [m["userEmail"] for m in members] == [bob, ALICE]


def test_dataset_roles(sb: Harness) -> None:
    dataset = sb.ok(
        sb.post("/datasets", {"title": "ds", "createBackingFolder": False, "legacyCall": False})
    )
    ds = dataset["datasetUuid"]
    assert (
        sb.ok(sb.get("/datasets/list", query=[("includeOrgAccess", False)], who=ALICE))["result"]
        == []
    )
    denied = sb.v1("dataset", "GET", resource=ds, who=ALICE)
    assert denied["response"] == ["AUTHORISATION_ERROR"]
    readers = sb.group("readers", (ALICE,))
    sb.ok(sb.post(f"/datasets/{ds}/groups", {"groupHashList": [readers], "userRole": 1}))
    listed = sb.ok(sb.get("/datasets/list", query=[("includeOrgAccess", False)], who=ALICE))[
        "result"
    ]
    assert [(d["title"], d["userRole"]) for d in listed] == [("ds", "user")]
    assert sb.v1("datarows", "GET", payload={}, resource=ds, who=ALICE)["response"] == []
    link = sb.v1(
        "datasetlinkitems",
        "POST",
        uid=ds,
        payload={"item_uuids": [], "duplicates_behavior": "SKIP"},
        who=ALICE,
    )
    assert link["response"] == ["AUTHORISATION_ERROR"]
    assert (
        sb.post(
            f"/datasets/{ds}/groups", {"groupHashList": [readers], "userRole": 0}, who=ALICE
        ).status_code
        == 403
    )
    sb.ok(sb.post(f"/datasets/{ds}/groups", {"groupHashList": [readers], "userRole": 0}))
    assert (
        sb.post(
            f"/datasets/{ds}/groups", {"groupHashList": [readers], "userRole": 0}, who=ALICE
        ).status_code
        == 204
    )


def test_linking_needs_read_access_to_the_items(sb: Harness, tree: Tree) -> None:
    mine = sb.ok(
        sb.post("/datasets", {"title": "alice-ds", "createBackingFolder": False}, who=ALICE)
    )
    payload = {"item_uuids": [tree.item], "duplicates_behavior": "SKIP"}
    refused = sb.v1("datasetlinkitems", "POST", uid=mine["datasetUuid"], payload=payload, who=ALICE)
    assert refused["response"] == ["AUTHORISATION_ERROR"]
    readers = sb.group("readers", (ALICE,))
    sb.grant(tree.team["uuid"], readers, "user")
    linked = sb.v1("datasetlinkitems", "POST", uid=mine["datasetUuid"], payload=payload, who=ALICE)
    assert [row["backing_item_uuid"] for row in linked["response"]] == [tree.item]
