"""Strongly connected components of a small directed graph, iteratively (no recursion)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def cyclic_nodes(edges: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Each node on a cycle (of two or more nodes) → the sorted members of its component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: dict[str, list[str]] = {}
    for start in edges:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            successors = edges.get(node, ())
            if child < len(successors):
                work.append((node, child + 1))
                nxt = successors[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = _pop_component(node, stack, on_stack)
                if len(component) > 1:
                    out.update((m, component) for m in component)
    return out


def _pop_component(root: str, stack: list[str], on_stack: set[str]) -> list[str]:
    """The component whose root is ``root``: the stack down to it, sorted."""
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == root:
            return sorted(component)
