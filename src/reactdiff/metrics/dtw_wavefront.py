"""DTW for FRDist as a torch wavefront, batched over thousands of pairs: the GPU path.

The cells of one anti-diagonal ``s + t = d`` of the warping grid depend only on the two previous
anti-diagonals, so a whole anti-diagonal of every pair in a batch is one tensor operation, and the
grid takes ``T + T' - 1`` steps whatever the batch size. Reversing the reference in time makes the
frames an anti-diagonal pairs up contiguous slices (query frame ``s`` meets reversed reference frame
``T' - 1 - d + s``), so no gather is needed.

Same definition as :mod:`reactdiff.metrics.dtw` (tslearn's ``dtw``: squared Euclidean local cost,
float32 inputs accumulated in float64, square root of the cheapest path) and the same arithmetic
per cell, ``cost + min(up, diagonal, left)`` in float64; only the order in which a cell's channels
are summed is torch's, so values agree with the CPU kernel to float64 rounding (tests: relative
1e-12). The same code runs on CPU tensors, which is how the tests check it without a GPU.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.metrics.dtw import FRDIST_GROUPS

#: Bytes of float64 squared differences one anti-diagonal step may hold at once; sets the pair batch.
_STEP_BYTES = 1 << 30


def _group_matrix(groups, channels: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """(C, G) 0/1 matrix summing each group's channels, and the (G,) weights."""
    matrix = torch.zeros(channels, len(groups), dtype=torch.float64, device=device)
    for g, (start, stop, _) in enumerate(groups):
        matrix[start:stop, g] = 1.0
    weights = torch.tensor([weight for _, _, weight in groups], dtype=torch.float64, device=device)
    return matrix, weights


def grouped_dtw_wavefront(queries: torch.Tensor, references: torch.Tensor, groups=FRDIST_GROUPS) -> torch.Tensor:
    """(B,) weighted sums over channel groups of DTW(queries[b][:, group], references[b][:, group]).

    ``queries`` (B, T, C) and ``references`` (B, T', C), any float dtype (rounded to float32 as the
    official evaluation does, then computed in float64), on any device; all pairs of a call share T
    and T'. Memory: about B * min(T, T') * C * 8 bytes per step.
    """
    device = queries.device
    queries = queries.to(torch.float32).to(torch.float64)
    # Reversed in time: an anti-diagonal's reference frames become a contiguous, increasing slice.
    reversed_refs = references.to(torch.float32).to(torch.float64).flip(1)
    batch, n_query, channels = queries.shape
    n_ref = reversed_refs.shape[1]
    matrix, weights = _group_matrix(list(groups), channels, device)
    n_groups = matrix.shape[1]
    # Accumulated costs of the last two anti-diagonals, indexed by query frame s at position s + 1;
    # position 0 is the virtual row s = -1. Cell (-1, -1) = 0 starts the path, every other border is inf.
    before = torch.full((batch, n_query + 1, n_groups), torch.inf, dtype=torch.float64, device=device)
    before[:, 0] = 0.0  # anti-diagonal -2: the cell (-1, -1)
    last = torch.full_like(before, torch.inf)  # anti-diagonal -1: borders only
    spare = torch.empty_like(before)  # three buffers in rotation: no allocation per step
    for diagonal in range(n_query + n_ref - 1):
        first, final = max(0, diagonal - n_ref + 1), min(diagonal, n_query - 1)
        offset = n_ref - 1 - diagonal  # reversed reference index of query frame s is offset + s
        difference = queries[:, first : final + 1] - reversed_refs[:, offset + first : offset + final + 1]
        cost = difference.square_() @ matrix  # (B, cells, G)
        # up = (s - 1, t) and left = (s, t - 1) lie on the last anti-diagonal, the diagonal step (s - 1, t - 1)
        # on the one before; positions s and s + 1 of the position-s+1 indexing.
        step = torch.minimum(torch.minimum(last[:, first : final + 1], last[:, first + 1 : final + 2]), before[:, first : final + 1])
        current = spare.fill_(torch.inf)
        torch.add(cost, step, out=current[:, first + 1 : final + 2])
        spare, before, last = before, last, current
    return (last[:, n_query].sqrt() * weights).sum(dim=1)


def min_grouped_dtw_wavefront(
    predictions: np.ndarray,
    references: np.ndarray,
    neighbours: np.ndarray,
    groups=FRDIST_GROUPS,
    device="cuda",
) -> np.ndarray:
    """:func:`reactdiff.metrics.dtw.min_grouped_dtw` on a torch device: (N, K) minimum over the
    appropriate references of the grouped DTW, every (reaction, candidate) pair computed in full
    (no early abandoning: on a GPU a batch runs to the end anyway)."""
    device = torch.device(device)
    n_rows, n_reactions = predictions.shape[:2]
    rows, columns = np.nonzero(np.asarray(neighbours) == 1)
    # One pair per (row, reaction, appropriate candidate).
    pair_rows = np.repeat(rows, n_reactions)
    pair_reactions = np.tile(np.arange(n_reactions), rows.size)
    pair_refs = np.repeat(columns, n_reactions)
    queries = torch.from_numpy(np.ascontiguousarray(predictions, dtype=np.float32)).to(device)
    refs = torch.from_numpy(np.ascontiguousarray(references, dtype=np.float32)).to(device)
    per_pair = predictions.shape[2] * predictions.shape[3] * 8
    batch = max(1, _STEP_BYTES // per_pair)
    values = torch.empty(pair_rows.size, dtype=torch.float64, device=device)
    for start in range(0, pair_rows.size, batch):
        chunk = slice(start, start + batch)
        row_index = torch.from_numpy(pair_rows[chunk]).to(device)
        reaction_index = torch.from_numpy(pair_reactions[chunk]).to(device)
        ref_index = torch.from_numpy(pair_refs[chunk]).to(device)
        values[chunk] = grouped_dtw_wavefront(queries[row_index, reaction_index], refs[ref_index], groups)
    # Minimum over each reaction's candidates: scatter-reduce into (N * K).
    target = torch.from_numpy(pair_rows * n_reactions + pair_reactions).to(device)
    result = torch.full((n_rows * n_reactions,), torch.inf, dtype=torch.float64, device=device)
    result.scatter_reduce_(0, target, values, reduce="amin")
    return result.reshape(n_rows, n_reactions).cpu().numpy()
