"""Organisation groups, their members, and group roles on folders, through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from encord.exceptions import AuthorisationError, ResourceNotFoundError
from encord.group import Group
from encord.orm.storage import StorageUserRole
from encord.storage import StorageFolder
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, UserSpec, prepared_sandbox, unique

pytestmark = pytest.mark.sdk

ADMIN = "admin@example.com"
MEMBERS = ("member.one@example.com", "member.two@example.com", "member+three@example.com")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    users = [UserSpec(email) for email in MEMBERS]
    with prepared_sandbox(tmp_path_factory.mktemp("sdk-groups"), users=users) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


def member_emails(group: Group) -> list[str]:
    return sorted(user.user_email for user in group.list_users())


def listed(uc: EncordUserClient) -> dict[UUID, Group]:
    return {group.group_hash: group for group in uc.list_groups()}


# --- organisation groups -------------------------------------------------------------------------


def test_create_group_reads_back(uc: EncordUserClient) -> None:
    name = unique("annotators")
    created = uc.create_group(name, "people who annotate")

    assert (created.name, created.description) == (name, "people who annotate")
    fetched = uc.get_group(created.group_hash)
    assert (fetched.group_hash, fetched.name, fetched.description) == (
        created.group_hash,
        name,
        "people who annotate",
    )
    assert fetched.created_at == created.created_at
    in_list = listed(uc)[created.group_hash]
    assert (in_list.name, in_list.description) == (name, "people who annotate")


def test_create_group_defaults_and_non_ascii(uc: EncordUserClient) -> None:
    plain = uc.create_group(unique("reviewers"))
    assert uc.get_group(str(plain.group_hash)).description == ""
    name = unique("Prüfer – QA")
    fancy = uc.create_group(name, description="ü")
    assert (uc.get_group(fancy.group_hash).name, uc.get_group(fancy.group_hash).description) == (
        name,
        "ü",
    )


def test_creator_is_the_first_member(uc: EncordUserClient) -> None:
    group = uc.create_group(unique("creator"))
    assert member_emails(group) == [ADMIN]


def test_update_group_name_description_and_both(uc: EncordUserClient) -> None:
    group = uc.create_group(unique("upd"), "before")
    renamed = unique("upd-renamed")

    group.update_group(name=renamed)
    assert (group.name, group.description) == (renamed, "before")
    group.update_group(description="after")
    assert (group.name, group.description) == (renamed, "after")
    final = unique("upd-final")
    group.update_group(name=final, description="both")

    fetched = uc.get_group(group.group_hash)
    assert (fetched.name, fetched.description) == (final, "both")
    assert listed(uc)[group.group_hash].name == final


def test_delete_group(uc: EncordUserClient) -> None:
    group = uc.create_group(unique("doomed"))
    kept = uc.create_group(unique("kept"))

    uc.delete_group(group.group_hash)

    with pytest.raises(ResourceNotFoundError):
        uc.get_group(group.group_hash)
    groups = listed(uc)
    assert group.group_hash not in groups
    assert kept.group_hash in groups
    with pytest.raises(ResourceNotFoundError):
        uc.delete_group(group.group_hash)


def test_unknown_group_is_not_found(uc: EncordUserClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        uc.get_group(uuid4())


# --- group members ------------------------------------------------------------------------------


def test_add_and_remove_group_users(uc: EncordUserClient) -> None:
    group = uc.create_group(unique("members"))

    after_add = group.add_users([MEMBERS[0], MEMBERS[2]])
    assert sorted(u.user_email for u in after_add) == sorted([ADMIN, MEMBERS[0], MEMBERS[2]])
    assert member_emails(group) == sorted([ADMIN, MEMBERS[0], MEMBERS[2]])

    again = group.add_users([MEMBERS[0], MEMBERS[1]])  # adding a member again is a no-op
    assert sorted(u.user_email for u in again) == sorted([ADMIN, *MEMBERS])

    group.remove_users([MEMBERS[0], "not-in-group@example.com"])  # unknown emails are ignored
    assert member_emails(uc.get_group(group.group_hash)) == sorted([ADMIN, MEMBERS[1], MEMBERS[2]])


def test_add_non_member_of_organisation_is_refused(uc: EncordUserClient) -> None:
    group = uc.create_group(unique("strangers"))
    with pytest.raises(AuthorisationError):
        group.add_users([MEMBERS[1], "stranger@elsewhere.example"])
    assert member_emails(group) == [ADMIN]  # nothing was added, not even the valid email


# --- group roles on folders ----------------------------------------------------------------------


def folder_roles(folder: StorageFolder) -> dict[UUID, tuple[str, StorageUserRole]]:
    return {g.group_hash: (g.name, g.user_role) for g in folder.list_groups()}


def test_folder_add_list_remove_groups(uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("shared"))
    viewers = uc.create_group(unique("viewers"), "read only")
    editors = uc.create_group(unique("editors"))
    auditors = uc.create_group(unique("auditors"))
    assert list(folder.list_groups()) == []

    folder.add_group(viewers.group_hash, StorageUserRole.USER)
    folder.add_group([editors.group_hash, auditors.group_hash], StorageUserRole.ADMIN)

    roles = folder_roles(folder)
    assert roles == {
        viewers.group_hash: (viewers.name, StorageUserRole.USER),
        editors.group_hash: (editors.name, StorageUserRole.ADMIN),
        auditors.group_hash: (auditors.name, StorageUserRole.ADMIN),
    }
    (viewer_grant,) = [g for g in folder.list_groups() if g.group_hash == viewers.group_hash]
    assert viewer_grant.description == "read only"
    assert viewer_grant.is_same_organisation is True

    folder.remove_group(viewers.group_hash)
    assert set(folder_roles(folder)) == {editors.group_hash, auditors.group_hash}
    folder.remove_group([editors.group_hash, auditors.group_hash])
    assert list(folder.list_groups()) == []


def test_deleting_a_group_revokes_its_folder_grants(uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("revoked"))
    group = uc.create_group(unique("shortlived"))
    folder.add_group(group.group_hash, StorageUserRole.USER)

    uc.delete_group(group.group_hash)

    assert list(folder.list_groups()) == []
