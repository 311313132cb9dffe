"""Layered auto-layout (Sugiyama-style) for the editor's Arrange and the bundled templates.

Data flows left to right. The steps are the classic ones, kept compact:

1. **Ranks** — a node's column is its longest path from a source; a source feeding a later
   column moves up next to it, so a side input does not leave a long wire.
2. **Dummies** — a wire that skips columns gets a placeholder in each column it crosses, so
   the skip connection of a residual block reserves a lane of its own and no layer sits on it.
3. **Order** — barycenter sweeps down and up the columns, keeping the order with the fewest
   crossings (counted exactly with a Fenwick tree, so DenseNet-like graphs stay fast).
4. **Coordinates** — each column's nodes go as near the mean of their neighbours as their
   order and the minimum gap allow (a least-squares fit solved by pool-adjacent-violators),
   swept a few times so chains run straight and branches sit side by side.
5. **Wrapping** — a long network is cut into rows (bands), like lines of text, at columns
   where a single wire crosses; the number of rows is the one that shows the whole network
   largest in the given viewport, preferring fewer rows when the difference is small.

Sizes are what the canvas draws (``node_size``), so no two node rectangles overlap and the
gaps leave room for the shape label on each wire. No library: grandalf, the one maintained
pure-Python Sugiyama package, neither wraps long chains into rows nor knows our label gaps,
and the whole algorithm fits here in a couple of hundred lines.
"""
from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph
from .inference import topological_order

__all__ = ["NODE_SIZE", "RANK_GAP", "LANE_GAP", "BAND_GAP", "COLUMN_WIDTH", "VIEWPORT",
           "layered_positions", "apply_layout"]

#: The canvas's node card (app/canvas/node_item.py passes its own; tests check they agree).
NODE_SIZE = (150.0, 104.0)
#: Between columns: room for a wire's shape label ("128×28×28") between two cards.
RANK_GAP = 90.0
#: Between parallel branches of one column.
LANE_GAP = 44.0
#: Between wrapped rows: room for the wire that returns to the left and its label.
BAND_GAP = 120.0
#: What a skip connection's lane reserves across the columns it passes.
DUMMY_HEIGHT = 72.0
COLUMN_WIDTH = NODE_SIZE[0] + RANK_GAP
#: The canvas at 1440×900 with the docks open (measured); what the templates are laid out for.
VIEWPORT = (920.0, 490.0)
SWEEPS = 8


@dataclass
class _Dummy:
    """A placeholder for a long wire in one column it crosses."""
    edge: int
    rank: int

    def __hash__(self) -> int:
        return hash((self.edge, self.rank))


def layered_positions(graph: Graph, node_size: tuple[float, float] = NODE_SIZE,
                      viewport: tuple[float, float] = VIEWPORT
                      ) -> dict[str, tuple[float, float]]:
    """Top-left corner of every node, for cards of ``node_size`` seen in ``viewport``."""
    if not graph.nodes:
        return {}
    width, height = node_size
    rank = _ranks(graph)
    layers, preds, succs = _with_dummies(graph, rank)
    _order(layers, preds, succs)
    sizes = {key: (DUMMY_HEIGHT if isinstance(key, _Dummy) else height)
             for layer in layers for key in layer}
    ys = _coordinates(layers, preds, succs, sizes)
    bands = _bands(layers, preds, ys, sizes, width, viewport)
    positions: dict[str, tuple[float, float]] = {}
    top = 0.0
    for start, end in bands:
        keys = [k for layer in layers[start:end] for k in layer]
        low = min(ys[k] - sizes[k] / 2 for k in keys)
        high = max(ys[k] + sizes[k] / 2 for k in keys)
        for r in range(start, end):
            for key in layers[r]:
                if not isinstance(key, _Dummy):
                    positions[key] = ((r - start) * (width + RANK_GAP),
                                      round(top + ys[key] - height / 2 - low, 1))
        top += high - low + BAND_GAP
    return positions


def apply_layout(graph: Graph, node_size: tuple[float, float] = NODE_SIZE,
                 viewport: tuple[float, float] = VIEWPORT) -> None:
    for node_id, pos in layered_positions(graph, node_size, viewport).items():
        graph.nodes[node_id].position = pos


# --- 1. ranks ------------------------------------------------------------------------------

def _ranks(graph: Graph) -> dict[str, int]:
    order, _ = topological_order(graph)
    position = {n: i for i, n in enumerate(order)}
    forward = [e for e in graph.edges if e.source in position and e.target in position]
    incoming: dict[str, list[str]] = {n: [] for n in graph.nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in forward:
        incoming[e.target].append(e.source)
        outgoing[e.source].append(e.target)
    rank: dict[str, int] = {}
    for n in order:
        rank[n] = 1 + max((rank[p] for p in incoming[n]), default=-1)
    for n in reversed(order):   # a side source sits just before the column it feeds
        if not incoming[n] and outgoing[n]:
            rank[n] = min(rank[s] for s in outgoing[n]) - 1
    last = max(rank.values(), default=-1)
    for n in graph.nodes:        # nodes on a cycle: one column after the rest, in order
        if n not in rank:
            last += 1
            rank[n] = last
    low = min(rank.values())
    return {n: r - low for n, r in rank.items()}


# --- 2. dummies ----------------------------------------------------------------------------

def _with_dummies(graph: Graph, rank: dict[str, int]):
    layers: list[list] = [[] for _ in range(max(rank.values()) + 1)]
    for n in graph.nodes:
        layers[rank[n]].append(n)
    preds: dict = {n: [] for n in graph.nodes}
    succs: dict = {n: [] for n in graph.nodes}
    for i, e in enumerate(graph.edges):
        a, b = e.source, e.target
        if a not in rank or b not in rank or rank[b] <= rank[a]:
            continue    # a wire against the flow (a cycle): drawn, not laid out
        chain = [a] + [_Dummy(i, r) for r in range(rank[a] + 1, rank[b])] + [b]
        for key in chain[1:-1]:
            layers[key.rank].append(key)
            preds[key], succs[key] = [], []
        for u, v in zip(chain, chain[1:]):
            succs[u].append(v)
            preds[v].append(u)
    return layers, preds, succs


# --- 3. order ------------------------------------------------------------------------------

def _order(layers: list[list], preds: dict, succs: dict) -> None:
    _initial_order(layers, succs)
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, succs)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        span = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for r in span:
            fixed = layers[r - 1] if down else layers[r + 1]
            neighbours = preds if down else succs
            index = {k: i for i, k in enumerate(fixed)}
            current = {k: i for i, k in enumerate(layers[r])}

            def key(k, index=index, current=current, neighbours=neighbours):
                near = [index[m] for m in neighbours[k] if m in index]
                bary = sum(near) / len(near) if near else current[k]
                return (bary, 0 if isinstance(k, _Dummy) else 1, current[k])
            layers[r].sort(key=key)
        crossings = _crossings(layers, succs)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
        if best_crossings == 0:
            break
    layers[:] = best


def _initial_order(layers: list[list], succs: dict) -> None:
    """Depth-first from the sources in graph order: a branch's nodes stay together."""
    seen: dict = {}
    for layer in layers:
        for key in layer:
            stack = [key]
            while stack:
                k = stack.pop()
                if k in seen:
                    continue
                seen[k] = len(seen)
                stack.extend(reversed(succs[k]))
    for layer in layers:
        layer.sort(key=lambda k: seen[k])


def _crossings(layers: list[list], succs: dict) -> int:
    total = 0
    for upper, lower in zip(layers, layers[1:]):
        index = {k: i for i, k in enumerate(lower)}
        ends = sorted((i, index[m]) for i, k in enumerate(upper) for m in succs[k]
                      if m in index)
        tree = [0] * (len(lower) + 1)
        seen = 0
        for _, j in ends:      # pairs (i < i', j > j') cross: count earlier ends above j
            s, x = 0, j + 1
            while x > 0:
                s += tree[x]
                x -= x & -x
            total += seen - s
            seen += 1
            x = j + 1
            while x <= len(lower):
                tree[x] += 1
                x += x & -x
    return total


# --- 4. coordinates --------------------------------------------------------------------------

def _coordinates(layers: list[list], preds: dict, succs: dict, sizes: dict) -> dict:
    ys: dict = {}
    for layer in layers:
        _place(layer, [0.0] * len(layer), sizes, ys)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        span = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for r in span:
            layer = layers[r]
            ideal = []
            for k in layer:
                near = (preds if down else succs)[k] or (succs if down else preds)[k]
                weights = [_weight(m) for m in near]
                ideal.append(sum(ys[m] * w for m, w in zip(near, weights)) / sum(weights)
                             if near else ys[k])
            _place(layer, ideal, sizes, ys)
    return ys


def _weight(key) -> float:
    """A skip connection's lane gives way to the layers: chains stay straight."""
    return 0.05 if isinstance(key, _Dummy) else 1.0


def _place(layer: list, ideal: list[float], sizes: dict, ys: dict) -> None:
    """Centres in order, at least half-size + gap + half-size apart, as near ``ideal`` as
    possible (weighted least squares): isotonic regression of ideal − offset by pool-
    adjacent-violators."""
    offsets, acc = [], 0.0
    for i, key in enumerate(layer):
        if i:
            acc += (sizes[layer[i - 1]] + sizes[key]) / 2 + LANE_GAP
        offsets.append(acc)
    blocks: list[list[float]] = []   # [mean, weight, count]
    for key, value in zip(layer, (v - o for v, o in zip(ideal, offsets))):
        blocks.append([value, _weight(key), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    i = 0
    for mean, _w, count in blocks:
        for _ in range(count):
            ys[layer[i]] = mean + offsets[i]
            i += 1


# --- 5. wrapping into rows ---------------------------------------------------------------------

def _bands(layers: list[list], preds: dict, ys: dict, sizes: dict, width: float,
           viewport: tuple[float, float]) -> list[tuple[int, int]]:
    count = len(layers)
    low = [min(ys[k] - sizes[k] / 2 for k in layer) for layer in layers]
    high = [max(ys[k] + sizes[k] / 2 for k in layer) for layer in layers]
    # wires crossing the boundary before column r (a cut there makes that many return wires)
    crossing = [0] + [sum(len(preds[k]) for k in layers[r]) for r in range(1, count)]

    def extent(bands: list[tuple[int, int]]) -> tuple[float, float]:
        w = max(e - s for s, e in bands) * (width + RANK_GAP) - RANK_GAP
        h = sum(max(high[s:e]) - min(low[s:e]) for s, e in bands) + BAND_GAP * (len(bands) - 1)
        return w, h

    def scale(bands) -> float:
        w, h = extent(bands)
        return min(viewport[0] / w, viewport[1] / h, 1.0)

    best = [(0, count)]
    best_scale = scale(best)
    for rows in range(2, min(count, 40) + 1):
        bands = _cut(count, rows, crossing)
        if bands is None:
            continue
        s = scale(bands)
        if s > best_scale * 1.12:   # another row must pay for itself
            best, best_scale = bands, s
    return best


def _cut(count: int, rows: int, crossing: list[int]) -> list[tuple[int, int]] | None:
    """``rows`` bands of about equal length, each cut where the fewest wires cross."""
    cuts, previous = [], 0
    window = max(1, count // (2 * rows))
    for j in range(1, rows):
        aim = round(count * j / rows)
        candidates = [r for r in range(max(previous + 1, aim - window),
                                       min(count - 1, aim + window) + 1)]
        if not candidates:
            return None
        r = min(candidates, key=lambda r: (crossing[r], abs(r - aim)))
        cuts.append(r)
        previous = r
    edges = [0] + cuts + [count]
    return [(s, e) for s, e in zip(edges, edges[1:]) if e > s]
