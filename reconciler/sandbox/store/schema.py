"""The sandbox schema, as an ordered list of migrations (``PRAGMA user_version`` = applied).

Invariants the code relies on:

* ``folders.path`` is the materialised path of row ids from the root down to the folder,
  ``/<id>/<id>/``; a subtree is the half-open range ``[path, path_end(path))``. It changes on
  move, together with ``items.folder_path`` (a copy of the item's folder path), so that a
  recursive listing is one indexed range scan.
* ``name_lower`` columns hold ``name.lower()`` (Python's, Unicode aware) for search.
* Timestamps are ``format_datetime`` text (UTC, microseconds, ``+00:00``): they sort as text.
* ``client_metadata`` is JSON text; folders may hold NULL, items always hold an object.
* Roles: folder grants are ``'user'``/``'admin'``; dataset roles are 0 (admin) / 1 (user).

Append a migration to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

V1 = """
CREATE TABLE organisation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    metadata_schema TEXT,
    metadata_schema_uuid TEXT,
    metadata_schema_created_at TEXT,
    metadata_schema_updated_at TEXT
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    org_role TEXT NOT NULL,
    member_type TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL
);
CREATE TABLE user_keys (
    keyid TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE TABLE user_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL
);
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    is_manager INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);
CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL CHECK (provider IN ('s3', 'gcp', 'azure')),
    root TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES folders(id),
    path TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    client_metadata TEXT,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL,
    folder_type TEXT NOT NULL DEFAULT 'generic',
    integration_id INTEGER REFERENCES integrations(id),
    remote_url TEXT,
    synced_dataset_uuid TEXT,
    sync_root_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
    sync_relpath TEXT
);
CREATE INDEX folders_parent_name ON folders(parent_id, name, uuid);
CREATE INDEX folders_parent_created ON folders(parent_id, created_at, uuid);
CREATE INDEX folders_owner ON folders(owner_id);
CREATE INDEX folders_sync_root ON folders(sync_root_id, sync_relpath);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    folder_id INTEGER NOT NULL REFERENCES folders(id),
    folder_path TEXT NOT NULL,
    item_type TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    client_metadata TEXT NOT NULL DEFAULT '{}',
    owner_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL,
    is_tombstone INTEGER NOT NULL DEFAULT 0,
    is_placeholder INTEGER NOT NULL DEFAULT 0,
    storage_location TEXT NOT NULL DEFAULT 'encord',
    integration_id INTEGER REFERENCES integrations(id),
    url TEXT,
    file_size INTEGER,
    mime_type TEXT,
    duration REAL,
    fps REAL,
    height INTEGER,
    width INTEGER,
    frame_count INTEGER,
    dicom_instance_uid TEXT,
    dicom_study_uid TEXT,
    dicom_series_uid TEXT,
    audio_sample_rate INTEGER,
    audio_bit_depth INTEGER,
    audio_codec TEXT,
    audio_num_channels INTEGER,
    source_mtime_ns INTEGER
);
CREATE INDEX items_folder_name ON items(folder_id, name, uuid);
CREATE INDEX items_folder_created ON items(folder_id, created_at, uuid);
CREATE INDEX items_name ON items(name, uuid, folder_path);
CREATE INDEX items_created ON items(created_at, uuid, folder_path);
CREATE INDEX items_path_name ON items(folder_path, name, uuid);
CREATE INDEX items_url ON items(url) WHERE url IS NOT NULL;
CREATE TABLE folder_grants (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (folder_id, group_id)
);
CREATE INDEX folder_grants_group ON folder_grants(group_id);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL,
    storage_location INTEGER NOT NULL DEFAULT 0,
    backing_folder_id INTEGER REFERENCES folders(id)
);
CREATE TABLE dataset_users (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role INTEGER NOT NULL CHECK (role IN (0, 1)),
    seq INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, user_id)
);
CREATE INDEX dataset_users_user ON dataset_users(user_id);
CREATE TABLE dataset_groups (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    role INTEGER NOT NULL CHECK (role IN (0, 1)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (dataset_id, group_id)
);
CREATE INDEX dataset_groups_group ON dataset_groups(group_id);
CREATE TABLE data_rows (
    id INTEGER PRIMARY KEY,
    data_hash TEXT NOT NULL UNIQUE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL
);
CREATE INDEX data_rows_dataset ON data_rows(dataset_id, id);
CREATE INDEX data_rows_item ON data_rows(item_id, dataset_id);
CREATE TABLE sync_jobs (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
"""

# Index collections: a named set of items in one top-level folder (``store.collections``).
V2_COLLECTIONS = """
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL,
    last_edited_at TEXT NOT NULL
);
CREATE INDEX collections_folder ON collections(folder_id, name, uuid);
CREATE INDEX collections_name ON collections(name, uuid);
CREATE TABLE collection_items (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, item_id)
);
CREATE INDEX collection_items_item ON collection_items(item_id);
"""

# Data-upload jobs (registering cloud objects into a folder) and folder configs. A job keeps
# its units (the request's entries, JSON) and how far it got; what it registered and the
# units that failed are rows of their own, so progress is a small update per batch.
V3_UPLOADS = """
CREATE TABLE upload_jobs (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    integration_id INTEGER REFERENCES integrations(id),
    owner_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    skip_duplicate_urls INTEGER NOT NULL,
    upsert_metadata INTEGER NOT NULL,
    ignore_errors INTEGER NOT NULL,
    units TEXT NOT NULL,
    units_total INTEGER NOT NULL,
    units_done INTEGER NOT NULL DEFAULT 0,
    units_error INTEGER NOT NULL DEFAULT 0,
    units_cancelled INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE upload_job_items (
    job_id INTEGER NOT NULL REFERENCES upload_jobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    item_uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE upload_job_errors (
    job_id INTEGER NOT NULL REFERENCES upload_jobs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    object_urls TEXT NOT NULL,
    error TEXT NOT NULL,
    subtask_uuid TEXT NOT NULL,
    action TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
CREATE TABLE folder_configs (
    folder_id INTEGER PRIMARY KEY REFERENCES folders(id) ON DELETE CASCADE,
    config TEXT NOT NULL
);
ALTER TABLE items ADD COLUMN sidecar_mtime_ns INTEGER;
CREATE INDEX items_folder_url ON items(folder_id, url) WHERE url IS NOT NULL;
"""

# Organisation tags (names unique) and the tags the app attaches to folders (the public API
# cannot attach one; the sandbox's control route stands in for the app).
V4_TAGS = """
CREATE TABLE organisation_tags (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE folder_tags (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES organisation_tags(id) ON DELETE CASCADE,
    PRIMARY KEY (folder_id, tag_id)
);
CREATE INDEX folder_tags_tag ON folder_tags(tag_id);
"""

MIGRATIONS: tuple[str, ...] = (V1, V2_COLLECTIONS, V3_UPLOADS, V4_TAGS)
SCHEMA_VERSION = len(MIGRATIONS)
