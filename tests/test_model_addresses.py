"""Addresses: ``Address.parse`` reads every address form and ``str`` gives it back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.model import addresses as addr
from reconciler.model.addresses import Address, Kind

EXAMPLES = [
    ("folder:/a/b", Address(Kind.FOLDER, "/a/b")),
    (
        "folder:/a#0c9e5a2e-61f4-4e0a-9d4e-0b7c8f1e2d3a",
        Address(Kind.FOLDER, "/a", "0c9e5a2e-61f4-4e0a-9d4e-0b7c8f1e2d3a"),
    ),
    ("folder:/run #2", Address(Kind.FOLDER, "/run #2")),
    ("item:/a/x.jpg#i-00000001", Address(Kind.ITEM, "/a/x.jpg", "i-00000001")),
    ("group:annotators#h1234567", Address(Kind.GROUP, "annotators#h1234567")),
    ("folder-group:/curated#annotators", Address(Kind.FOLDER_GROUP, "/curated", "annotators")),
    ("folder-group:/c#g#h1234567", Address(Kind.FOLDER_GROUP, "/c", "g#h1234567")),
    ("dataset:batch #3", Address(Kind.DATASET, "batch #3")),
    ("dataset-group:train#annotators", Address(Kind.DATASET_GROUP, "train", "annotators")),
    (
        "dataset-user:batch #3#a@example.com",
        Address(Kind.DATASET_USER, "batch #3", "a@example.com"),
    ),
    ("link:batch #3#/a/x#1.jpg", Address(Kind.LINK, "batch #3", "/a/x#1.jpg")),
    ("metadata-schema:organisation", Address(Kind.METADATA_SCHEMA, "organisation")),
]


@pytest.mark.parametrize(("text", "parsed"), EXAMPLES)
def test_address_parses_each_form(text: str, parsed: Address) -> None:
    assert Address.parse(text) == parsed
    assert str(parsed) == text


def test_address_path_is_the_storage_path_it_names_or_hangs_from() -> None:
    assert Address.parse(addr.folder_group("/a/b", "g")).path == "/a/b"
    assert Address.parse(addr.link("t", "/a/x.jpg")).path == "/a/x.jpg"
    assert Address.parse("item:/a/x.jpg#i-00000001").path == "/a/x.jpg"
    assert Address.parse(addr.dataset_user("t", "a@b.c")).path is None


_text = st.text(st.sampled_from("ab#/:-@ 0123456789"), max_size=12)


@given(st.sampled_from(list(Kind)), _text)
def test_address_round_trips_every_string(kind: Kind, rest: str) -> None:
    text = f"{kind}:{rest}"
    parsed = Address.parse(text)
    assert str(parsed) == text
    assert parsed.sort_key() == addr.sort_key(text)


ADDRESS_TEXT = st.text(alphabet="/#\x00\x01a-.", max_size=8).map(lambda key: f"item:{key}")


@given(st.lists(ADDRESS_TEXT, max_size=12))
def test_sort_text_orders_as_sort_key(addresses: list[str]) -> None:
    """The plan's order sorts by ``sort_text`` (one string a change): the same order as the
    tuples of ``sort_key``, with separators, "#" and NUL characters in the names."""
    assert sorted(addresses, key=addr.sort_text) == sorted(addresses, key=addr.sort_key)
    for a in addresses:
        for b in addresses:
            assert (addr.sort_text(a) < addr.sort_text(b)) == (addr.sort_key(a) < addr.sort_key(b))
