"""State survives stopping and restarting ``reconciler sandbox serve`` on the same database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from encord.orm.dataset import DatasetUserRole, StorageLocation
from encord.orm.storage import StorageUserRole, SyncPrivateDataWithCloudSyncedFolderStatus
from encord.user_client import EncordUserClient
from helpers import running_sandbox
from sdk_data.sdk_kit import (
    IntegrationSpec,
    UserSpec,
    bearer_client,
    png_bytes,
    prepared_sandbox,
    ssh_client,
    sync,
    synced_folder,
)

pytestmark = pytest.mark.sdk

MEMBER = "kept.member@example.com"
TOKEN_USER = "kept.token@example.com"


def read_state(uc: EncordUserClient) -> dict[str, Any]:
    """Everything the first run created, read back through the SDK only."""
    (root,) = uc.list_storage_folders(search="persist-root")
    (child,) = root.list_subfolders()
    (synced,) = uc.list_storage_folders(search="synced-")
    items = list(synced.list_items())
    (group,) = [g for g in uc.list_groups() if g.name == "persist-group"]
    (entry,) = uc.get_datasets(title_eq="persist-ds")
    dataset = uc.get_dataset(entry["dataset"].dataset_hash)
    schema = uc.metadata_schema()
    schema_keys = list(schema.keys())
    return {
        "root": (root.uuid, root.name, root.description, root.client_metadata),
        "child": (child.uuid, child.name, child.parent_uuid),
        "synced": (synced.uuid, synced.is_cloud_synced, synced.remote_url),
        "items": sorted((i.uuid, i.name, i.file_size, i.client_metadata) for i in items),
        "group": (
            group.group_hash,
            group.description,
            sorted(u.user_email for u in group.list_users()),
        ),
        "folder_groups": [(g.group_hash, g.user_role) for g in root.list_groups()],
        "dataset": (dataset.dataset_hash, dataset.title, dataset.description),
        "rows": sorted((str(r.backing_item_uuid), r.title) for r in dataset.data_rows),
        "dataset_users": sorted((u.user_email, u.user_role) for u in dataset.list_users()),
        "dataset_groups": [(g.group_hash, g.user_role) for g in dataset.list_groups()],
        "org_users": sorted((u.email, u.role_mnemonic_name) for u in uc.list_organisation_users()),
        "schema": sorted((k, schema.get_key_type(k)) for k in schema_keys),
    }


def test_state_survives_restart(tmp_path: Path) -> None:
    users = [UserSpec(MEMBER), UserSpec(TOKEN_USER, token=True)]
    integrations = [IntegrationSpec("persist-bucket", "s3")]
    with prepared_sandbox(tmp_path, users=users, integrations=integrations) as sandbox:
        uc = sandbox.admin()
        root = uc.create_storage_folder(
            "persist-root", description="kept", client_metadata={"v": 1}
        )
        root.create_subfolder("persist-child")
        files = {"a.png": png_bytes(), "b.png": png_bytes(5, 5)}
        synced, _ = synced_folder(uc, sandbox, "persist-bucket", "s3://keep/me/", files)
        assert sync(synced).status == SyncPrivateDataWithCloudSyncedFolderStatus.DONE
        items = {i.name: i for i in synced.list_items()}
        items["a.png"].update(client_metadata={"label": "cat"})
        group = uc.create_group("persist-group", "survives")
        group.add_users([MEMBER, TOKEN_USER])
        root.add_group(group.group_hash, StorageUserRole.USER)
        created = uc.create_dataset("persist-ds", StorageLocation.CORD_STORAGE, "rows too", False)
        dataset = uc.get_dataset(created.dataset_hash)
        dataset.link_items([items["b.png"].uuid])
        dataset.add_users([MEMBER], DatasetUserRole.USER)
        dataset.add_group(group.group_hash, DatasetUserRole.ADMIN)
        uc.add_organisation_user(
            "sdk.added@example.com", role_mnemonic_name="TASKER", member_type="external"
        )
        schema = uc.metadata_schema()
        schema.add_scalar("label", data_type="varchar")
        schema.save()
        before = read_state(uc)
        token = sandbox.accounts[TOKEN_USER].token
        member_key = sandbox.accounts[MEMBER].key_text

    with running_sandbox(tmp_path, init=False) as server:  # same database, new process
        uc = ssh_client(server.key_text, server.url)
        assert read_state(uc) == before
        # Keys and tokens registered before the restart still authenticate.
        member = ssh_client(member_key, server.url)
        assert member.get_storage_folder(before["root"][0]).name == "persist-root"
        assert token
        assert [
            f.name for f in bearer_client(token, server.url).list_storage_folders(search="persist")
        ] == ["persist-root"]
