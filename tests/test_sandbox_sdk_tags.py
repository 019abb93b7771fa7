"""Organisation tags through the official SDK: list, create (unique names, 409 on a taken
one, admins only), delete by tag, name or UUID (admins only), and the folder listing's
``organisation_tags_allof`` filter over tags the app (here the control route) attached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from encord.exceptions import AuthorisationError, ResourceExistsError, ResourceNotFoundError
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, UserSpec, prepared_sandbox, unique

pytestmark = pytest.mark.sdk

MEMBER = "tag.member@example.com"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with prepared_sandbox(tmp_path_factory.mktemp("sdk-tags"), users=[UserSpec(MEMBER)]) as sb:
        yield sb


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()


def names(uc: EncordUserClient) -> dict[str, str]:
    return {tag.name: str(tag.uuid) for tag in uc.list_organisation_tags()}


def test_create_then_list_reads_it_back(uc: EncordUserClient) -> None:
    with_text, without = unique("night"), unique("Prüfung – QA")
    made = uc.create_organisation_tag(with_text, description="frames at night")
    plain = uc.create_organisation_tag(without)

    listed = names(uc)
    assert made.name == with_text and listed[with_text] == str(made.uuid)
    assert plain.name == without and listed[without] == str(plain.uuid)
    assert made.uuid != plain.uuid


def test_a_taken_name_is_a_conflict_and_makes_no_second_tag(uc: EncordUserClient) -> None:
    name = unique("dup")
    uc.create_organisation_tag(name)
    with pytest.raises(ResourceExistsError):
        uc.create_organisation_tag(name, description="again")
    assert [t.name for t in uc.list_organisation_tags()].count(name) == 1


def test_delete_by_tag_by_name_and_by_uuid(uc: EncordUserClient) -> None:
    by_tag, by_name, by_uuid, kept = (uc.create_organisation_tag(unique(p)) for p in "abck")
    uc.delete_organisation_tag(by_tag)
    uc.delete_organisation_tag(tag_name=by_name.name)
    uc.delete_organisation_tag(tag_uuid=str(by_uuid.uuid))

    listed = names(uc)
    assert {by_tag.name, by_name.name, by_uuid.name}.isdisjoint(listed)
    assert kept.name in listed
    with pytest.raises(ResourceNotFoundError):
        uc.delete_organisation_tag(tag_uuid=by_uuid.uuid)
    with pytest.raises(ResourceNotFoundError):
        uc.delete_organisation_tag(tag_name=by_name.name)


def test_members_may_list_but_not_create_or_delete(sandbox: Sandbox, uc: EncordUserClient) -> None:
    tag = uc.create_organisation_tag(unique("admins-only"))
    member = sandbox.client(MEMBER)

    assert tag.name in {t.name for t in member.list_organisation_tags()}
    with pytest.raises(AuthorisationError):
        member.create_organisation_tag(unique("by-member"))
    with pytest.raises(AuthorisationError):
        member.delete_organisation_tag(tag_uuid=tag.uuid)
    assert tag.name in names(uc)


def test_folders_filter_by_all_of_their_tags(sandbox: Sandbox, uc: EncordUserClient) -> None:
    red, blue = unique("red"), unique("blue")
    for name in (red, blue):
        uc.create_organisation_tag(name)
    both = uc.create_storage_folder(unique("both"))
    only_red = uc.create_storage_folder(unique("only-red"))
    uc.create_storage_folder(unique("none"))
    for folder, tag in ((both, red), (both, blue), (only_red, red)):
        sandbox.server.control(
            "POST", "/_sandbox/folder-tags", {"folder": str(folder.uuid), "tag": tag}
        )

    def tagged(*wanted: str) -> set[str]:
        return {f.name for f in uc.list_storage_folders(organisation_tags_allof=list(wanted))}

    assert tagged(red) == {both.name, only_red.name}
    assert tagged(red, blue) == {both.name}
    with pytest.raises(ResourceNotFoundError):
        tagged(unique("no-such-tag"))
    uc.delete_organisation_tag(tag_name=blue)  # detached from every folder with it
    assert tagged(red) == {both.name, only_red.name}
