"""The collections client under lost answers: a create committed and then answered 502 is
found, not made twice; a delete whose answer was lost is not an error."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from encord_data.kit import embedded

from reconciler.encord import NotFoundError
from reconciler.live import Scope, read_live


@pytest.mark.anyio
async def test_lost_answers_never_duplicate_and_gone_is_done(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        top = await c.folders.create("curated")
        await s.set_faults(error_after_rate=0.5, seed=3)  # writes commit, then half 502
        made = [await c.collections.create(top.uuid, f"c{n}", "") for n in range(6)]
        await c.collections.delete(made[0])
        await s.set_faults(error_after_rate=0.0)
        assert c.stats.retries > 0  # the faults did hit
        names = Counter(x.name for x in await c.collections.list_in(top.uuid))
        assert names == Counter({f"c{n}": 1 for n in range(1, 6)})
        assert {str(x.uuid) for x in await c.collections.list_in(top.uuid)} == {
            str(u) for u in made[1:]
        }
        with pytest.raises(NotFoundError):
            await c.collections.get(made[0])
        assert await c.collections.remove_items(made[1], []) == []


@pytest.mark.anyio
async def test_a_listing_refused_is_a_problem_and_an_incomplete_read(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        top = await c.folders.create("curated")
        made = await c.collections.create(top.uuid, "kept", "")
        scope = Scope(roots=("/curated",), collection_folders=("/curated",), collections=None)
        await s.set_faults(forbid_reads=f"index/collections/{made}/accessible-items")
        partial = await read_live(c, scope)
        assert not partial.complete
        assert partial.collections[str(made)].members is None
        assert any("items of collection kept" in p for p in partial.problems)
        await s.set_faults(forbid_reads="index/collections")
        refused = await read_live(c, scope)
        assert not refused.complete and refused.collections == {}
        assert "/curated" not in refused.collection_folders
        assert any(p.startswith("collections of /curated") for p in refused.problems)
