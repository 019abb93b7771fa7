"""Random organisations and configurations (hypothesis strategies) for the property tests."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from hypothesis import strategies as st
from simulator import Collection, Dataset, Group, Org

from helpers.desired import OTHER, OWNER, desired_state, folder, manifest, registration, src
from reconciler.model.addresses import is_under
from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredCollection,
    DesiredDataset,
    DesiredFolder,
    DesiredGroup,
    DesiredState,
    DesiredTag,
    DesiredUser,
    ItemMatch,
    ItemSelector,
    Manifest,
    MetadataRule,
    OrganisationRole,
    Policy,
    Role,
    Source,
    ownership_tag,
)

# --- random organisations and configurations ---------------------------------------------------

NAMES = ("a", "b", "c")
ITEM_NAMES = ("x.jpg", "y.jpg", "z.mp4")
USERS = ("alice@example.com", "bob@example.com", "boss@example.com")
NEW_USER = "carl@example.com"  # not in the organisation: declared, it is added
ORG_ROLES = st.sampled_from(["ADMIN", "MEMBER", "TASKER", "WORKFORCE_MANAGER"])
GROUPS = ("g1", "g2", "g3")
DATASETS = ("d1", "d2")
COLLECTIONS = ("c1", "c2", "c3")
TAGS = ("t1", "t2", "t3")
MARKS = ("ours", "theirs", "none")
values = st.one_of(
    st.integers(-2, 2), st.booleans(), st.sampled_from(["s", "t"]), st.sampled_from([1.0, 2.5])
)
metadata = st.dictionaries(st.sampled_from(["k", "split", "qa.s", "note"]), values, max_size=3)
roles = st.sampled_from(["user", "admin"])
# Objects ``organisations`` puts in the buckets, with distinct names (``register:`` rows).
REGISTERABLE = ("s3://bucket/one/p.jpg", "s3://bucket/one/sub/q.jpg", "s3://bucket/two/r.jpg")
PATHS = ("/a", "/b", "/a/b", "/a/c", "/b/a", "/c", "/c/a")


def _mark(tag: str) -> dict[str, Any]:
    return {"ours": {OWNER_KEY: OWNER}, "theirs": {OWNER_KEY: OTHER}, "none": {}}[tag]


def _tagged(text: str, tag: str) -> str:
    return {
        "ours": f"{text} {ownership_tag(OWNER)}",
        "theirs": f"{text} {ownership_tag(OTHER)}",
        "none": text,
    }[tag]


@st.composite
def organisations(draw: st.DrawFn) -> Org:
    org = Org()
    org.users.update(
        {"alice@example.com": "MEMBER", "bob@example.com": "MEMBER", "boss@example.com": "ADMIN"}
    )
    org.integrations["int-1"] = "s3-raw"
    org.buckets["s3://bucket/one/"] = ["p.jpg", "sub/q.jpg"]
    org.buckets["s3://bucket/two/"] = ["r.jpg"]
    folders: list[str] = []
    for _ in range(draw(st.integers(0, 7))):
        parent = draw(st.sampled_from([None, *folders])) if folders else None
        depth = 0 if parent is None else org.path_of(parent).count("/")
        if depth >= 2:
            parent = None
        meta = {**draw(metadata), **_mark(draw(st.sampled_from(MARKS)))}
        if draw(st.integers(0, 5)) == 0:
            uuid = org.add_folder(
                parent,
                draw(st.sampled_from(NAMES)),
                metadata=meta,
                folder_type="cloudLinked",
                integration_uuid="int-1",
                remote_url="s3://bucket/one/",
            )
        else:
            uuid = org.add_folder(
                parent,
                draw(st.sampled_from(NAMES)),
                metadata=meta,
                description=draw(st.sampled_from(["", "d"])),
            )
        folders.append(uuid)
    items: list[str] = []
    for _ in range(draw(st.integers(0, 12))) if folders else ():
        items.append(
            org.add_item(
                draw(st.sampled_from(folders)),
                draw(st.sampled_from(ITEM_NAMES)),
                metadata=draw(metadata),
                item_type="image",
            )
        )
    for name in draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3)):
        uuid = org.new_id("g")

        org.groups[uuid] = Group(
            uuid,
            name,
            _tagged("team", draw(st.sampled_from(MARKS))),
            set(draw(st.lists(st.sampled_from(USERS), unique=True))),
        )
    for folder_uuid in folders:
        for group in draw(
            st.lists(st.sampled_from(sorted(org.groups) or ["none"]), unique=True, max_size=2)
        ):
            if group in org.groups:
                org.folder_groups.setdefault(folder_uuid, {})[group] = draw(roles)
    for name in draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3)):
        text = draw(st.sampled_from(["tag", None]))  # None: the listing gives no description
        org.tags[org.new_id("t")] = (name, text and _tagged(text, draw(st.sampled_from(MARKS))))
    for title in draw(st.lists(st.sampled_from(DATASETS), unique=True, max_size=2)):
        uuid = org.new_id("d")
        ds = Dataset(uuid, title, _tagged("set", draw(st.sampled_from(MARKS))), edited=org.tick())
        ds.users = {
            u: draw(roles) for u in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=2))
        }
        ds.groups = {
            g: draw(roles)
            for g in draw(
                st.lists(st.sampled_from(sorted(org.groups) or ["x"]), unique=True, max_size=2)
            )
            if g in org.groups
        }
        for item in (
            draw(st.lists(st.sampled_from(items), unique=True, max_size=3)) if items else ()
        ):
            ds.rows[org.new_id("h")] = item
        org.datasets[uuid] = ds
    tops = [u for u in folders if org.folders[u].parent is None]
    for name in draw(st.lists(st.sampled_from(COLLECTIONS[:2]), unique=True, max_size=2)):
        if not tops:
            break
        top = draw(st.sampled_from(tops))
        inside = [i for i in items if _top_of(org, org.items[i].parent) == top]
        uuid = org.new_id("k")
        org.collections[uuid] = Collection(
            uuid,
            top,
            name,
            _tagged("col", draw(st.sampled_from(MARKS))),
            set(draw(st.lists(st.sampled_from(inside), unique=True, max_size=3)) if inside else ()),
            edited=org.tick(),
        )
    return org


@st.composite
def configurations(draw: st.DrawFn, org: Org) -> DesiredState:
    paths = sorted(draw(st.lists(st.sampled_from(PATHS), unique=True, max_size=4)))
    live_paths = sorted({org.path_of(u) for u in org.folders})
    used_previous: set[str] = set()
    group_names: set[str] = set()
    folders = {}
    for n, path in enumerate(paths):
        fields: dict[str, Any] = {}
        if draw(st.booleans()):
            fields["description"] = draw(st.sampled_from(["", "desc"]))
        if draw(st.booleans()):
            fields["metadata"] = draw(metadata)
            fields["metadata_mode"] = draw(st.sampled_from(["merge", "replace"]))
            fields["owned_keys"] = draw(st.sampled_from([(), ("qa.*",)]))
        if draw(st.booleans()):
            grants = draw(st.dictionaries(st.sampled_from(GROUPS), roles, max_size=2))
            fields["groups"] = grants
            group_names.update(grants)
        options = [
            p
            for p in live_paths
            if p not in paths
            and p not in used_previous
            and not p.startswith(path + "/")
            and not path.startswith(p + "/")
        ]
        if options and bool(draw(st.booleans())):
            previous = draw(st.sampled_from(options))
            used_previous.add(previous)
            fields["previously"] = (previous,)
        if draw(st.integers(0, 3)) == 0:  # adopt: true or release: true
            fields["claim"] = draw(st.sampled_from(["adopt", "release"]))
        if draw(st.integers(0, 4)) == 0:
            url = draw(st.sampled_from(["s3://bucket/one/", "s3://bucket/two/"]))
            fields["cloud_sync"] = CloudSync(
                integration="s3-raw", remote_url=url, sync="on_create", source=src(50 + n)
            )
        elif draw(st.integers(0, 3)) == 0:  # objects of the buckets registered here
            urls = draw(st.lists(st.sampled_from(REGISTERABLE), unique=True, min_size=1))
            listed = [{"url": u, "metadata": draw(st.sampled_from([{}, {"m": 1}]))} for u in urls]
            fields["registration"] = registration(
                listed, integration="s3-raw", prune=draw(st.sampled_from(["never", "owned"]))
            )
        folders[path] = folder(path, 10 + n, **fields)
    # Registering under a declared cloud-synced folder is a config error (config/cloud.py):
    # the loader never hands the planner such a config.
    synced_paths = [p for p, f in folders.items() if f.cloud_sync is not None]
    for path, declared in list(folders.items()):
        if declared.registration is not None and any(
            path.startswith(q + "/") for q in synced_paths
        ):
            folders[path] = dataclasses.replace(declared, registration=None)
    # Rules and selectors name folders that exist after the plan (declared, or live and not
    # moved away, nor deleted inside a folder replaced to be synced): one naming no folder at
    # all is a plan error (``plan.selectors``), which the plan warns of beforehand where only
    # the sync could bring the folder back.
    replaced = _replaced_by_sync(org, folders)
    existing = sorted(
        {*paths}
        | {
            p
            for p in live_paths
            if not any(p == q or p.startswith(q + "/") for q in used_previous)
            and not any(p.startswith(q + "/") for q in replaced)
        }
    )
    targets = st.sampled_from(existing or ["/"])
    rules = []
    for n in range(draw(st.integers(0, 2 if existing else 0))):
        match = ItemMatch(name=draw(st.sampled_from([None, "*.jpg"])))
        rules.append(
            MetadataRule(
                folder=draw(targets),
                recursive=draw(st.booleans()),
                match=match,
                metadata={f"r{n}": draw(values)},
                mode=draw(st.sampled_from(["merge", "replace"])),
                owned_keys=draw(st.sampled_from([(), ("qa.*",)])),
                source=src(30 + n, "items.yaml"),
            )
        )
    manifests: tuple[Manifest, ...] = ()
    if draw(st.booleans()):
        item_paths = sorted({f"{p}/{n}" for p in (*PATHS, *live_paths) for n in ITEM_NAMES})
        rows = draw(
            st.dictionaries(
                st.sampled_from(item_paths), st.fixed_dictionaries({"m": values}), max_size=4
            )
        )
        moves = {}
        for path in rows:
            if draw(st.integers(0, 2)) == 0:
                moves[path] = draw(st.sampled_from(item_paths))
        folders_there = {
            p for p in live_paths if not any(p == q or p.startswith(q + "/") for q in used_previous)
        }
        folders_there |= set(paths)
        synced = [p for p, f in folders.items() if f.cloud_sync is not None]
        folders_there = {p for p in folders_there if not any(p.startswith(q + "/") for q in synced)}
        moves = {
            p: q
            for p, q in moves.items()
            if q != p and q not in rows and p.rsplit("/", 1)[0] in folders_there
        }
        manifests = (manifest(rows, previously=moves),)
    declared_users = draw(
        st.one_of(st.none(), st.dictionaries(st.sampled_from((*USERS, NEW_USER)), ORG_ROLES))
    )
    emails = (*USERS, *((NEW_USER,) if NEW_USER in (declared_users or {}) else ()))
    datasets = {}
    for title in draw(st.lists(st.sampled_from(DATASETS), unique=True, max_size=2)):
        selectors = tuple(
            _selector(draw, targets, src(60 + i, "datasets.yaml"))
            for i in range(draw(st.integers(0, 3 if existing else 0)))
        )
        users = draw(
            st.one_of(st.none(), st.dictionaries(st.sampled_from(emails), roles, max_size=2))
        )
        grants = draw(
            st.one_of(st.none(), st.dictionaries(st.sampled_from(GROUPS), roles, max_size=2))
        )
        group_names.update(grants or ())
        datasets[title] = DesiredDataset(
            title=title,
            items=selectors,
            users=users,
            groups=cast("dict[str, Role] | None", grants),
            unlink=draw(st.sampled_from(["never", "owned", "all"])),
            description=draw(st.sampled_from([None, "set", "new"])),
            source=src(70, "datasets.yaml"),
        )
    collections = _collections(draw, org, existing, folders)
    declared_groups = (
        set(draw(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3))) | group_names
    )
    live_group_names = {g.name for g in org.groups.values()}
    groups = {
        name: DesiredGroup(
            name=name,
            description=draw(st.sampled_from([None, "team", "other"])),
            members=draw(
                st.one_of(st.none(), st.lists(st.sampled_from(emails), unique=True).map(tuple))
            ),
            source=src(20, "groups.yaml"),
        )
        for name in sorted(declared_groups)
        if name in group_names or draw(st.booleans()) or name not in live_group_names
    }
    authoritative = declared_users is not None and draw(st.booleans())
    tags = draw(
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(TAGS), st.sampled_from([None, "tag", "new"]), max_size=3
            ),
        )
    )
    policy = Policy(
        prune=draw(st.sampled_from(["never", "owned", "all"])),
        protect=draw(st.sampled_from([(), ("/b/**",)])),
        max_delete_ratio=1.0,
        min_existing=draw(st.sampled_from([0, 10])),
        users="authoritative" if authoritative else "additive",
        max_user_removal_ratio=1.0,
    )
    return desired_state(
        users=_users(org, declared_users, groups, datasets, authoritative),
        folders=folders,
        rules=tuple(rules),
        manifests=manifests,
        datasets=datasets,
        collections=collections,
        groups=groups,
        policy=policy,
        organisation_tags=None
        if tags is None
        else {
            n: DesiredTag(name=n, description=d, source=src(80, "tags.yaml"))
            for n, d in sorted(tags.items())
        },
    )


def _selector(draw: st.DrawFn, folders: st.SearchStrategy[str], source: Source) -> ItemSelector:
    """A folder selector of datasets and collections: maybe recursive, maybe by metadata."""
    return ItemSelector(
        folder=draw(folders),
        recursive=draw(st.booleans()),
        match=ItemMatch(metadata=draw(st.sampled_from([None, {"r0": 1}, {"k": 1}]))),
        source=source,
    )


def _top_of(org: Org, folder: str) -> str:
    """The top-level folder above ``folder`` (by parent, not path: top-level names repeat)."""
    while (parent := org.folders[folder].parent) is not None:
        folder = parent
    return folder


def _collections(
    draw: st.DrawFn, org: Org, existing: list[str], folders: dict[str, DesiredFolder]
) -> dict[str, DesiredCollection]:
    """``collections:`` in top-level folders that exist after the plan, each selecting in its
    own folder (``config.collections``), maybe renaming a live one of the same folder. Not
    where a declared folder is cloud-synced: members a sync of the plan brings are added by
    the next plan (README, "Index collections"), which the convergence test would take for a
    plan that does not converge."""
    filled = {
        "/" + path.split("/")[1]
        for path, declared in folders.items()
        if declared.cloud_sync is not None or declared.registration is not None
    }
    tops = sorted({"/" + p.split("/")[1] for p in existing if p != "/"} - filled)
    out: dict[str, DesiredCollection] = {}
    if not tops:
        return out
    names = draw(st.lists(st.sampled_from(COLLECTIONS), unique=True, max_size=2))
    renamed: set[str] = set()
    for n, name in enumerate(names):
        top = draw(st.sampled_from(tops))
        inside = st.sampled_from([p for p in existing if is_under(p, top)])
        selectors = tuple(
            _selector(draw, inside, src(90 + i, "collections.yaml"))
            for i in range(draw(st.integers(0, 2)))
        )
        earlier = sorted(
            c.name
            for c in org.collections.values()
            if "/" + org.folders[c.folder].name == top
            and c.name not in names
            and c.name not in renamed
        )
        previously: tuple[str, ...] = ()
        if earlier and draw(st.integers(0, 2)) == 0:
            previously = (draw(st.sampled_from(earlier)),)
            renamed.update(previously)
        out[name] = DesiredCollection(
            name=name,
            folder=top,
            description=draw(st.sampled_from([None, "col", "new"])),
            items=selectors,
            remove=draw(st.sampled_from(["never", "owned", "all"])),
            previously=previously,
            source=src(88 + n, "collections.yaml"),
        )
    return out


def _replaced_by_sync(org: Org, folders: dict[str, DesiredFolder]) -> list[str]:
    """Declared cloud-synced paths where some live folder is not synced from that URL: the
    plan replaces it (deleting what it holds), unless the path is left ambiguous."""
    out = []
    for path, declared in folders.items():
        sync = declared.cloud_sync
        if sync is None:
            continue
        there = [f for u, f in org.folders.items() if org.path_of(u) == path]
        if any(f.folder_type != "cloudLinked" or f.remote_url != sync.remote_url for f in there):
            out.append(path)
    return out


def _users(
    org: Org,
    declared: dict[str, str] | None,
    groups: dict[str, DesiredGroup],
    datasets: dict[str, DesiredDataset],
    authoritative: bool,
) -> dict[str, DesiredUser]:
    """``users:``; authoritative, every member and dataset user is declared too (with its
    live role: a plan may not remove whom a group or dataset names)."""
    roles = dict(declared or {})
    if authoritative:
        cited = {e for g in groups.values() for e in g.members or ()}
        cited |= {e for d in datasets.values() for e in d.users or {}}
        for email in sorted(cited - set(roles)):
            roles[email] = org.users.get(email, "MEMBER")
    return {
        email: DesiredUser(
            email=email, role=cast(OrganisationRole, role), source=src(80 + n, "users.yaml")
        )
        for n, (email, role) in enumerate(sorted(roles.items()))
    }
