"""The journey rules of the DuckDB list route in numpy, one sorted bucket of persons at a time.

The DuckDB engine's bucketed route (:func:`attribution.engines._common._bucketed_paths`) stages
every event as narrow integers and then, bucket by bucket of persons, needs the journeys of
each bucket: which conversion closes each touch's journey, the lookback, and the journey's
path. In SQL that is a window pass and per-journey lists (:func:`attribution.engines._sql.
_journey_lists_sql`); here DuckDB only sorts the bucket's events (in parallel, in memory) and
hands them over as Arrow columns, and the rules are a few vectorised passes over the sorted
arrays: a journey starts at a person's first event or after a conversion, its end is its
conversion's time (or its last kept-channel touch), and its path is its kept-channel touches
within the lookback.

Paths are grouped without turning them into text: every path gets a 64-bit polynomial hash of
its codes (and ages), the journeys are grouped by hash, and every journey's codes are then
compared element by element with its group's first journey, so a hash collision can never
merge two different paths: if one is found the bucket is grouped exactly by its paths' text
instead. The path text is made once per unique path at the end (pyarrow's ``binary_join``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Odd 64-bit multipliers of the path hash (wrapping uint64 arithmetic).
_P = np.uint64(0x9E3779B97F4A7C15)
_M_AGE = np.uint64(0xC2B2AE3D27D4EB4F)
_M_LEN = np.uint64(0x165667B19E3779F9)
_M_PLACE = np.uint64(0xD6E8FEB86659FD93)


@dataclass
class PathGroups:
    """Unique (path, ages, place) keys with their journeys' counts (one bucket, or all of them).

    ``offsets``/``codes``/``ages``: the paths as CSR (``ages`` ``None`` without the age rule);
    ``place``: place code (-1: none); ``hash``: the key's hash; ``n_conv``, ``n_null``,
    ``x_excluded``, ``x_lookback``: counts over the key's journeys.
    """

    hash: np.ndarray
    offsets: np.ndarray
    codes: np.ndarray
    ages: np.ndarray | None
    place: np.ndarray
    n_conv: np.ndarray
    n_null: np.ndarray
    x_excluded: np.ndarray
    x_lookback: np.ndarray

    def __len__(self) -> int:
        return int(self.hash.size)


def _powers(n: int) -> np.ndarray:
    out = np.empty(max(n, 1), dtype=np.uint64)
    out[0] = 1
    if n > 1:
        out[1:] = _P
        np.multiply.accumulate(out, out=out)  # wraps modulo 2^64
    return out


def _segment_sums(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Wrapping uint64 sums of consecutive segments (empty segments give 0)."""
    cs = np.zeros(values.size + 1, dtype=np.uint64)
    np.cumsum(values, out=cs[1:])
    return cs[starts + lengths] - cs[starts]


def _key_hash(codes, ages, offsets, place) -> np.ndarray:
    """The hash of every (path, ages, place) key of a CSR of paths."""
    lengths = np.diff(offsets)
    n = codes.size
    starts = offsets[:-1]
    pos = np.arange(n, dtype=np.int64) - np.repeat(starts, lengths)
    x = codes.astype(np.uint64) + np.uint64(1)
    if ages is not None:
        x = x + (ages.astype(np.uint64) + np.uint64(1)) * _M_AGE
    x *= _powers(int(lengths.max()) if lengths.size else 1)[pos]
    h = _segment_sums(x, starts, lengths)
    h ^= lengths.astype(np.uint64) * _M_LEN
    h ^= (place.astype(np.int64) + 1).astype(np.uint64) * _M_PLACE
    return h


def _first_of_groups(h: np.ndarray):
    """Group ids (numbered in hash order) and each group's first member."""
    _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
    return inverse.ravel(), first


def _same_as_first(g, first, codes, ages, offsets, place) -> bool:
    """Whether every member's key equals its group's first member's key, element by element.

    Only the members that are not their group's first are compared, with 4-byte indices where
    they fit (the check runs on every bucket and every merge: its memory is the route's peak).
    """
    rep = first[g]
    other_rows = np.flatnonzero(rep != np.arange(rep.size, dtype=rep.dtype))
    if other_rows.size == 0:
        return True
    rep = rep[other_rows]
    lengths = np.diff(offsets)
    if not np.array_equal(lengths[other_rows], lengths[rep]) or not np.array_equal(place[other_rows], place[rep]):
        return False
    idx = np.int32 if offsets[-1] < 2**31 else np.int64
    n_rows = lengths[other_rows].astype(idx)
    total = int(n_rows.sum(dtype=np.int64))
    if total == 0:
        return True
    # element k of a compared row: its place in the row, then in the member and in the first member
    row_start = np.zeros(n_rows.size, dtype=np.int64)
    np.cumsum(n_rows[:-1], out=row_start[1:])
    pos = np.arange(total, dtype=idx)
    pos -= np.repeat(row_start.astype(idx), n_rows)
    mine = pos + np.repeat(offsets[:-1][other_rows].astype(idx), n_rows)
    theirs = pos
    theirs += np.repeat(offsets[:-1][rep].astype(idx), n_rows)
    del pos
    if not np.array_equal(codes[mine], codes[theirs]):
        return False
    return ages is None or np.array_equal(ages[mine], ages[theirs])


def _exact_groups(codes, ages, offsets, place):
    """Groups by the keys' exact text (the fallback after a hash collision)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = _path_text(codes, offsets)
    parts = [text, pa.array(place.astype(np.int64)).cast(pa.string())]
    if ages is not None:
        parts.insert(1, _path_text(ages, offsets))
    key = pc.binary_join_element_wise(*parts, "|").to_numpy(zero_copy_only=False)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return inverse.ravel(), first


def _group(codes, ages, offsets, place, h):
    """Group ids and first members of the keys, exact whatever the hash does."""
    g, first = _first_of_groups(h)
    if _same_as_first(g, first, codes, ages, offsets, place):
        return g, first
    return _exact_groups(codes, ages, offsets, place)


def _take_csr(offsets, values, rows):
    """The CSR rows ``rows`` of ``(offsets, values)`` (values may be a list of arrays)."""
    lengths = np.diff(offsets)[rows]
    new = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    idx = np.repeat(offsets[:-1][rows] - new[:-1], lengths) + np.arange(int(new[-1]), dtype=np.int64)
    return new, [None if v is None else v[idx] for v in values]


def _reduce(paths_offsets, codes, ages, place, h, stats):
    """Group keys and add up their integer stats: ``(PathGroups, group id of every input key)``."""
    g, first = _group(codes, ages, paths_offsets, place, h)
    G = first.size
    # counts below 2^53: bincount's float sums are exact
    sums = [np.bincount(g, weights=s, minlength=G).astype(np.int64) for s in stats]
    off, (c, a) = _take_csr(paths_offsets, [codes, ages], first)
    return PathGroups(h[first], off, c, a, place[first], *sums), g


def bucket_groups(p, t, kind, code, pl, value, lookback_ns, age_step_ns):
    """The journeys of one bucket's events, sorted by (person, time, kind, input row), grouped by key.

    ``kind``: 0 touch, 1 touch from a conversion row, 2 conversion; ``code``: channel code,
    -1 for an excluded channel (and for conversions); ``pl``: place code of a conversion (-1:
    none); ``value``: the events' conversion values (an Arrow array, taken as is). Returns the
    bucket's :class:`PathGroups` and, for its converting journeys in (person, journey) order,
    their group and conversion value.
    """
    import pyarrow as pa

    n = p.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return (PathGroups(empty.astype(np.uint64), np.zeros(1, np.int64), empty, None if age_step_ns is None else empty,
                           empty, empty, empty, empty, empty), empty, value.slice(0, 0))
    conv = kind == 2
    start = np.empty(n, dtype=bool)
    start[0] = True
    np.not_equal(p[1:], p[:-1], out=start[1:])
    start[1:] |= conv[:-1]
    js = np.flatnonzero(start)
    J = js.size
    jid = np.cumsum(start, dtype=np.int32 if n < 2**31 else np.int64) - 1
    last = np.empty(J, dtype=np.int64)
    last[:-1] = js[1:] - 1
    last[-1] = n - 1
    jconv = conv[last]
    touch = (kind < 2) & (code >= 0)
    ti = np.flatnonzero(touch)
    tj = jid[ti]
    n_touch = np.bincount(tj, minlength=J)
    x_excl = np.bincount(jid[(kind < 2) & (code < 0)], minlength=J)
    if lookback_ns is None and age_step_ns is None:
        ki = ti
    else:
        # the journey's end: its conversion, else its last kept-channel touch (the sort puts it last)
        lt = np.zeros(J, dtype=np.int64)
        if ti.size:
            ends = np.flatnonzero(np.r_[tj[1:] != tj[:-1], True])
            lt[tj[ends]] = ti[ends]
        t_end = np.where(jconv, t[last], t[lt])
        if lookback_ns is None:
            ki = ti
        else:
            ki = ti[t_end[tj] - t[ti] <= np.int64(lookback_ns)]
    kj = jid[ki]
    klen = np.bincount(kj, minlength=J)
    offsets = np.zeros(J + 1, dtype=np.int64)
    np.cumsum(klen, out=offsets[1:])
    kc = code[ki]
    ka = None if age_step_ns is None else (t_end[kj] - t[ki]) // np.int64(age_step_ns)
    jpl = np.where(jconv, pl[last], -1).astype(np.int64)
    h = _key_hash(kc, ka, offsets, jpl)
    groups, g = _reduce(offsets, kc, ka, jpl, h,
                        [jconv, ~jconv, x_excl, n_touch - klen])
    if n < 2**31:  # a bucket's counts and offsets fit 4 bytes: narrower parts to keep until the merge
        for name in ("offsets", "place", "n_conv", "n_null", "x_excluded", "x_lookback"):
            setattr(groups, name, getattr(groups, name).astype(np.int32))
    cj = np.flatnonzero(jconv)
    return groups, g[cj], value.take(pa.array(last[cj]))


def merge_groups(parts: list[PathGroups]):
    """Merge buckets' groups: ``(PathGroups, global group of every bucket group, in order)``."""
    if len(parts) == 1:
        return parts[0], np.arange(len(parts[0]), dtype=np.int64)
    sizes = np.array([q.offsets[-1] for q in parts], dtype=np.int64)
    shift = np.r_[0, np.cumsum(sizes)[:-1]]
    offsets = np.concatenate([parts[0].offsets[:1].astype(np.int64)] + [q.offsets[1:] + s for q, s in zip(parts, shift)])
    codes = np.concatenate([q.codes for q in parts])
    ages = None if parts[0].ages is None else np.concatenate([q.ages for q in parts])
    cat = lambda name: np.concatenate([getattr(q, name) for q in parts])  # noqa: E731
    return _reduce(offsets, codes, ages, cat("place").astype(np.int64), cat("hash"),
                   [cat("n_conv"), cat("n_null"), cat("x_excluded"), cat("x_lookback")])


def _path_text(values: np.ndarray, offsets: np.ndarray):
    """Arrow strings: each CSR row's integers joined by single spaces ('' for an empty row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    items = pa.array(values.astype(np.int64)).cast(pa.string())
    return pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets.astype(np.int64)), items), " ")


def groups_table(groups: PathGroups, places: list):
    """The unique keys as an Arrow table: ``gid, path[, ages], place, rid``, the counts."""
    import pyarrow as pa

    cols = {"gid": pa.array(np.arange(len(groups), dtype=np.int64)), "path": _path_text(groups.codes, groups.offsets)}
    if groups.ages is not None:
        cols["ages"] = _path_text(groups.ages, groups.offsets)
    place_names = pa.array(list(places) + [None], type=pa.string())
    cols["place"] = place_names.take(pa.array(np.where(groups.place < 0, len(places), groups.place)))
    # the path table's row id: rows in (path, ages, place) order, places without a name first
    # (byte order, as the engine's ORDER BY path, ages, place NULLS FIRST)
    import pyarrow.compute as pc

    keys = [k for k in cols if k != "gid"]
    try:  # pyarrow >= 25: nulls placed per key
        order = pc.sort_indices(pa.table(cols), sort_keys=[(k, "ascending", "at_start") for k in keys])
    except (TypeError, ValueError, pa.ArrowInvalid):
        order = pc.sort_indices(pa.table(cols), sort_keys=[(k, "ascending") for k in keys], null_placement="at_start")
    order = order.to_numpy()
    rid = np.empty(order.size, dtype=np.int64)
    rid[order] = np.arange(order.size, dtype=np.int64)
    cols["rid"] = pa.array(rid)
    cols["n_conv"] = pa.array(groups.n_conv)
    cols["n_null"] = pa.array(groups.n_null)
    cols["x_excluded"] = pa.array(groups.x_excluded)
    cols["x_lookback"] = pa.array(groups.x_lookback)
    return pa.table(cols)
