"""Who-has-what as a sparse matrix: rows are playlists (or users), columns are items.

``build_interactions`` streams ``(row_id, item_id)`` pairs into two growing ``array('i')``
buffers and two id dictionaries, so memory grows with 8 bytes per pair plus one entry per
distinct id; no Python object outlives its pair. A pair seen twice counts once: a playlist
either holds a track or it does not.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


@dataclass(frozen=True, slots=True, eq=False)
class Interactions:
    """A binary ``rows x items`` CSR matrix (float32) with the ids of its rows and columns.

    Every row and every column holds at least one entry. ``eq=False``: two values are equal
    only when they are the same object (comparing matrices element-wise is never wanted).
    """

    matrix: sp.csr_matrix
    row_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    _item_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.matrix.shape != (len(self.row_ids), len(self.item_ids)):
            raise ValueError(
                f"matrix shape {self.matrix.shape} does not match "
                f"{len(self.row_ids)} row ids x {len(self.item_ids)} item ids"
            )
        index = {item: i for i, item in enumerate(self.item_ids)}
        if len(index) != len(self.item_ids):
            raise ValueError("item ids are not unique")
        object.__setattr__(self, "_item_index", index)

    @property
    def n_rows(self) -> int:
        return len(self.row_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)

    def item_index(self, item_id: str) -> int:
        """The column of ``item_id``; ``KeyError`` naming the id when it is unknown."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise KeyError(f"unknown item id {item_id!r}") from None

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._item_index

    def item_support(self) -> npt.NDArray[np.int64]:
        """How many rows hold each item (the column counts), aligned with ``item_ids``."""
        return np.bincount(self.matrix.indices, minlength=self.n_items).astype(np.int64)

    def rows_of(self, playlists: Iterable[Iterable[str]]) -> sp.csr_matrix:
        """A binary matrix with one row per given id list, over this matrix's columns.

        Ids this matrix does not know are dropped, which is how a model sees a new playlist.
        """
        indptr = array("q", [0])
        indices = array("i")
        for ids in playlists:
            cols = {self._item_index[i] for i in ids if i in self._item_index}
            indices.extend(sorted(cols))
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix(
            (data, np.frombuffer(indices, dtype=np.int32), np.frombuffer(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, self.n_items),
        )


def build_interactions(
    pairs: Iterable[tuple[str, str]], *, min_item_count: int = 1
) -> Interactions:
    """Count ``(row_id, item_id)`` pairs into an ``Interactions`` matrix.

    Duplicate pairs count once. Items held by fewer than ``min_item_count`` distinct rows are
    dropped, then rows left empty by that are dropped too. Ids keep their first-seen order.
    """
    if min_item_count < 1:
        raise ValueError(f"min_item_count must be at least 1, got {min_item_count}")
    row_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    rows = array("i")
    cols = array("i")
    # setdefault with the current size hands out 0, 1, 2, ... in first-seen order. The bound
    # methods save attribute look-ups in a loop that runs once per pair (66M for the MPD).
    row_of, item_of = row_index.setdefault, item_index.setdefault
    add_row, add_col = rows.append, cols.append
    for row_id, item_id in pairs:
        add_row(row_of(row_id, len(row_index)))
        add_col(item_of(item_id, len(item_index)))
    if not rows:
        raise ValueError("no interactions: the pairs were empty")
    matrix = _binary_csr(rows, cols, (len(row_index), len(item_index)))
    del rows, cols
    row_ids = tuple(row_index)
    item_ids = tuple(item_index)
    del row_index, item_index
    return _prune(Interactions(matrix, row_ids, item_ids), min_item_count)


def _binary_csr(rows: array[int], cols: array[int], shape: tuple[int, int]) -> sp.csr_matrix:
    r = np.frombuffer(rows, dtype=np.int32)
    c = np.frombuffer(cols, dtype=np.int32)
    data = np.ones(len(r), dtype=np.float32)
    # COO -> CSR sums duplicate pairs; setting every stored value to 1 makes them count once.
    matrix = sp.coo_matrix((data, (r, c)), shape=shape).tocsr()
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _prune(interactions: Interactions, min_item_count: int) -> Interactions:
    matrix = interactions.matrix
    support = interactions.item_support()
    keep_items = support >= min_item_count
    if not keep_items.all():
        matrix = matrix[:, np.flatnonzero(keep_items)].tocsr()
    keep_rows = np.diff(matrix.indptr) > 0
    if not keep_rows.any():
        raise ValueError(f"no interactions left: no item is held by {min_item_count} or more rows")
    if keep_items.all() and keep_rows.all():
        return interactions
    if not keep_rows.all():
        matrix = matrix[np.flatnonzero(keep_rows)].tocsr()
    return Interactions(
        matrix.astype(np.float32, copy=False),
        _select(interactions.row_ids, keep_rows),
        _select(interactions.item_ids, keep_items),
    )


def _select(ids: tuple[str, ...], mask: npt.NDArray[np.bool_]) -> tuple[str, ...]:
    return tuple(i for i, keep in zip(ids, mask.tolist(), strict=True) if keep)
