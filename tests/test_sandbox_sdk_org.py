"""Organisation users and the organisation metadata schema through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from encord.exceptions import (
    AuthenticationError,
    AuthorisationError,
    InvalidArgumentsError,
    ResourceExistsError,
    ResourceNotFoundError,
)
from encord.orm.dataset import DatasetUserRole, StorageLocation
from encord.orm.organisation_user import OrganisationUser
from encord.orm.storage import StorageUserRole
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, UserSpec, prepared_sandbox, unique

pytestmark = pytest.mark.sdk

ADMIN = "admin@example.com"
CLI_MEMBER = "cli.member@example.com"
CLI_ADMIN = "cli.admin@example.com"
LEAVING = "leaving.member@example.com"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    users = [UserSpec(CLI_MEMBER, "member"), UserSpec(CLI_ADMIN, "admin"), UserSpec(LEAVING)]
    with prepared_sandbox(tmp_path_factory.mktemp("sdk-org"), users=users) as served:
        yield served


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


def org_users(uc: EncordUserClient) -> dict[str, OrganisationUser]:
    users = uc.list_organisation_users()
    by_email = {user.email: user for user in users}
    assert len(by_email) == len(users)  # one row per member
    return by_email


# --- organisation users ---------------------------------------------------------------------------


def test_list_shows_init_admin_and_cli_users(uc: EncordUserClient) -> None:
    users = org_users(uc)
    assert {ADMIN, CLI_MEMBER, CLI_ADMIN} <= set(users)
    assert (users[ADMIN].role_mnemonic_name, users[ADMIN].member_type) == ("ADMIN", "internal")
    assert users[CLI_MEMBER].role_mnemonic_name == "MEMBER"
    assert users[CLI_ADMIN].role_mnemonic_name == "ADMIN"
    # One role uuid per role name.
    assert users[ADMIN].role_uuid == users[CLI_ADMIN].role_uuid != users[CLI_MEMBER].role_uuid
    assert users[ADMIN].created_at <= users[ADMIN].last_edited_at


def test_add_organisation_user_then_again_is_a_conflict(uc: EncordUserClient) -> None:
    email = f"{unique('tasker')}@example.com"
    uc.add_organisation_user(email, role_mnemonic_name="TASKER", member_type="external")

    user = org_users(uc)[email]
    assert (user.role_mnemonic_name, user.member_type) == ("TASKER", "external")

    with pytest.raises(ResourceExistsError):
        uc.add_organisation_user(email, role_mnemonic_name="MEMBER", member_type="internal")
    unchanged = org_users(uc)[email]
    assert (unchanged.role_mnemonic_name, unchanged.member_type) == ("TASKER", "external")


def test_add_each_role(uc: EncordUserClient) -> None:
    added = {}
    for role in ("ADMIN", "MEMBER", "TASKER", "WORKFORCE_MANAGER"):
        email = f"{unique(role.lower())}@example.com"
        uc.add_organisation_user(email, role_mnemonic_name=role, member_type="internal")
        added[email] = role
    users = org_users(uc)
    assert {email: users[email].role_mnemonic_name for email in added} == added


def test_admin_must_be_internal(uc: EncordUserClient) -> None:
    email = f"{unique('ext-admin')}@example.com"
    with pytest.raises((InvalidArgumentsError, AuthorisationError)):
        uc.add_organisation_user(email, role_mnemonic_name="ADMIN", member_type="external")
    assert email not in org_users(uc)


def test_remove_organisation_user_with_plus_in_email(uc: EncordUserClient) -> None:
    email = f"a+{unique('b')}@example.com"
    uc.add_organisation_user(email, role_mnemonic_name="MEMBER", member_type="internal")
    assert email in org_users(uc)

    uc.remove_organisation_user(email)  # sent percent-encoded: a%2Bb...%40example.com

    assert email not in org_users(uc)
    with pytest.raises(ResourceNotFoundError):
        uc.remove_organisation_user(email)


def test_removed_member_loses_access(sandbox: Sandbox, uc: EncordUserClient) -> None:
    folder = uc.create_storage_folder(unique("was-shared"))
    group = uc.create_group(unique("leavers"))
    group.add_users([LEAVING])
    folder.add_group(group.group_hash, StorageUserRole.USER)
    leaving = sandbox.client(LEAVING)
    assert leaving.get_storage_folder(folder.uuid).uuid == folder.uuid

    uc.remove_organisation_user(LEAVING)

    assert LEAVING not in org_users(uc)
    with pytest.raises((AuthenticationError, AuthorisationError)):
        leaving.get_storage_folder(folder.uuid)
    # Joining again is a fresh membership, not a conflict.
    uc.add_organisation_user(LEAVING, role_mnemonic_name="MEMBER", member_type="internal")
    assert org_users(uc)[LEAVING].role_mnemonic_name == "MEMBER"


def test_remove_unknown_user_is_not_found(uc: EncordUserClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        uc.remove_organisation_user("never.heard.of@example.com")


def test_user_added_through_sdk_can_join_groups(uc: EncordUserClient) -> None:
    email = f"{unique('joiner')}@example.com"
    uc.add_organisation_user(email, role_mnemonic_name="MEMBER", member_type="internal")
    group = uc.create_group(unique("joiners"))

    group.add_users([email])

    assert sorted(u.user_email for u in group.list_users()) == sorted([ADMIN, email])


def test_member_cannot_add_organisation_users(sandbox: Sandbox, uc: EncordUserClient) -> None:
    email = f"{unique('sneaky')}@example.com"
    member = sandbox.client(CLI_MEMBER)
    with pytest.raises(AuthorisationError):
        member.add_organisation_user(email, role_mnemonic_name="ADMIN", member_type="internal")
    assert email not in org_users(uc)


def test_member_cannot_remove_organisation_users(sandbox: Sandbox, uc: EncordUserClient) -> None:
    email = f"{unique('stays')}@example.com"
    uc.add_organisation_user(email, role_mnemonic_name="TASKER", member_type="external")
    member = sandbox.client(CLI_MEMBER)
    with pytest.raises(AuthorisationError):
        member.remove_organisation_user(email)
    assert org_users(uc)[email].member_type == "external"


def test_removing_a_user_drops_their_group_memberships_and_dataset_roles(
    uc: EncordUserClient,
) -> None:
    email = f"{unique('departing')}@example.com"
    uc.add_organisation_user(email, role_mnemonic_name="MEMBER", member_type="internal")
    group = uc.create_group(unique("departures"))
    group.add_users([email])
    created = uc.create_dataset(
        unique("ds"), StorageLocation.CORD_STORAGE, "", create_backing_folder=False
    )
    dataset = uc.get_dataset(created.dataset_hash)
    dataset.add_users([email], DatasetUserRole.ADMIN)
    assert email in {u.user_email for u in dataset.list_users()}

    uc.remove_organisation_user(email)

    assert email not in {u.user_email for u in group.list_users()}
    assert email not in {u.user_email for u in dataset.list_users()}
    # Added again, the user holds neither: the API never gives them back.
    uc.add_organisation_user(email, role_mnemonic_name="MEMBER", member_type="internal")
    assert email not in {u.user_email for u in group.list_users()}
    assert email not in {u.user_email for u in dataset.list_users()}


# --- metadata schema ---------------------------------------------------------------------------


def test_metadata_schema_round_trip(uc: EncordUserClient) -> None:
    schema = uc.metadata_schema()
    assert list(schema.keys()) == []  # a fresh organisation has no schema

    schema.add_scalar("reviewed", data_type="boolean")
    schema.add_scalar("caption", data_type="text")
    schema.add_scalar("label", data_type="string")  # alias of varchar
    schema.add_scalar("score", data_type="number")
    schema.add_scalar("taken_at", data_type="datetime")
    schema.add_enum("split", values=["train", "val"])
    schema.add_embedding("emb", size=8)
    schema.save()

    loaded = uc.metadata_schema()
    keys = sorted(loaded.keys())  # MetadataSchema is not a mapping
    assert keys == [
        "caption",
        "emb",
        "label",
        "reviewed",
        "score",
        "split",
        "taken_at",
    ]
    types = {key: loaded.get_key_type(key) for key in keys}
    assert types == {
        "reviewed": "boolean",
        "caption": "text",
        "label": "varchar",
        "score": "number",
        "taken_at": "datetime",
        "split": "enum",
        "emb": "embedding",
    }
    assert list(loaded.get_enum_options("split")) == ["train", "val"]
    assert loaded.get_embedding_size("emb") == 8

    loaded.delete_key("caption")
    loaded.add_enum_options("split", values=["test"])
    loaded.save()
    final = uc.metadata_schema()
    assert final.is_key_deleted("caption")
    assert final.get_key_type("caption") is None
    assert list(final.get_enum_options("split")) == ["test", "train", "val"]  # the SDK sorts
    assert final.get_key_type("reviewed") == "boolean"
