"""Gaussian varying effects integrated out of the likelihood, and drawn back after sampling.

For a Gaussian model with identity link, ``y = eta + Z u + e`` with ``u ~ N(0, Λ)`` (Λ holds
the group-level covariance of every level) and ``e ~ N(0, V)``, the varying effects integrate
out analytically: ``y ~ N(eta, V + Z Λ Zᵀ)``. NUTS then explores only the intercept, the
population-level effects, the group-level sds and correlations and sigma — a posterior of a
handful of dimensions without the funnel between an sd and its effects — and the varying
effects are drawn afterwards from their exact conditional ``u | y, θ ~ N(M⁻¹ Zᵀ V⁻¹ (y − eta),
M⁻¹)`` with ``M = Λ⁻¹ + Zᵀ V⁻¹ Z``, one draw per posterior draw. The joint draws are draws from
the same posterior brms samples.

The density uses Woodbury's identity. Observations and levels split into connected components
(levels that share observations: one per subject for ``(Days | Subject)``, one per school for
classes nested in schools, a single one for crossed factors); ``M`` is block diagonal over
them, so the work is a batch of small Cholesky factorisations, components of similar size
padded into one batch. A batch of small blocks goes through one fused operation
(``cholesky_terms``: factor, log-determinant, quadratic form and the gradient's pieces in one
Numba loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from .cholesky_terms import conditional_draws, logdet_and_quad
from .design import Design

__all__ = [
    "Components",
    "Layout",
    "MarginalCost",
    "compiled_draws_pay_off",
    "components",
    "draw_group_effects",
    "layout",
    "marginal_cost",
    "marginal_loglik",
]


@dataclass
class Batch:
    """Components padded to the same number of effects ``Q``, with their group-level design
    held sparsely: each observation has one entry per coefficient of every block (``m`` in
    all), at its levels' positions.

    Entries are addressed in the flattened ``(C, Q)`` layout (``cols = c·Q + p``) and their
    products in the flattened ``(C, Q, Q)`` one (``pair_cols``), so ``Zᵀr`` and ``ZᵀWZ`` are
    sums of ``O(n·m)`` and ``O(n·m²)`` terms, never a rows × levels array.
    """

    comp_ids: np.ndarray  # (C,) component numbers
    n_effects: int  # Q
    obs: np.ndarray  # (n_b,) the batch's observations
    cols: np.ndarray  # (n_b, m) flat (component, position) of each entry
    vals: np.ndarray  # (n_b, m) its value in Z
    pair_cols: np.ndarray  # (n_b, m·m) flat (component, position, position) of each product
    pair_vals: np.ndarray  # (n_b, m·m) the products of an observation's entries
    ZtZ: np.ndarray  # (C, Q, Q)
    pad_eye: np.ndarray  # (C, Q, Q) identity on padded effect slots
    # per block k: (c_k, pos_k): level j of block k sits in batch row c_k[j] at positions pos_k[j]
    where: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # k -> (levels, c, pos)

    @property
    def n_components(self) -> int:
        return len(self.comp_ids)

    @property
    def envelope(self) -> np.ndarray:
        """``(C, Q)``: per row of each component's ``M``, its first structurally non-zero
        column (two effects that an observation shares, or one level's covariance block
        holds); the diagonal for padded slots. ``M``'s values can be zero inside it, never
        outside it, whatever the parameters (``cholesky_terms.CholeskyTerms``)."""
        C, Q = self.n_components, self.n_effects
        pattern = np.zeros(C * Q * Q, dtype=bool)
        pattern[self.pair_cols.ravel()] = True
        pattern = pattern.reshape(C, Q, Q) | np.eye(Q, dtype=bool)
        for _, rows, pos in self.where.values():
            pattern[rows[:, None, None], pos[:, :, None], pos[:, None, :]] = True
        return np.argmax(pattern, axis=2)

    def sparse_design(self, nobs: int):
        """Z of the batch as a scipy CSR matrix, ``nobs × (C·Q)``."""
        from scipy import sparse

        m = self.cols.shape[1]
        shape = (nobs, self.n_components * self.n_effects)
        rows = np.repeat(self.obs, m)
        return sparse.csr_matrix((self.vals.ravel(), (rows, self.cols.ravel())), shape=shape)

    def sparse_products(self, nobs: int):
        """The observations' products ``Z_ip Z_iq`` as CSR, ``nobs × (C·Q·Q)``: ``w @ P`` is
        ``ZᵀWZ`` flattened for row weights ``w``."""
        from scipy import sparse

        mm = self.pair_cols.shape[1]
        shape = (nobs, self.n_components * self.n_effects**2)
        rows = np.repeat(self.obs, mm)
        return sparse.csr_matrix(
            (self.pair_vals.ravel(), (rows, self.pair_cols.ravel())), shape=shape
        )


@dataclass
class Components:
    """Connected components of observations and group levels, batched by size."""

    batches: list[Batch]
    n_components: int


def _union_find(design: Design) -> np.ndarray:
    """Component label per node; nodes are (block, level) pairs numbered block by block."""
    offsets = np.cumsum([0] + [b.n_levels for b in design.blocks])
    parent = np.arange(offsets[-1])

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first = design.blocks[0]
    for blk, off in zip(design.blocks[1:], offsets[1:-1], strict=True):
        pairs = np.unique(
            np.column_stack([first.index, blk.index + off]), axis=0
        )  # each observation links its levels
        for a, b in pairs:
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[rb] = ra
    return np.array([find(i) for i in range(offsets[-1])]), offsets


def _node_degrees(design: Design, offsets: np.ndarray) -> np.ndarray:
    """Per (block, level) node: how many effects share an observation with its effects (the
    non-zeros of its rows of ``M``).

    A component's effects are ordered by this count, and the effects of one level of one
    grouping factor next to each other: in a nested design the classes' effects come first
    and their school's last, so that each class's rows of ``M`` are zero left of that class's
    own effects, and the Cholesky loop (``cholesky_terms``), which skips those zeros, does
    O(Q²) work per component instead of O(Q³)."""
    width = np.concatenate([np.full(b.n_levels, len(b.coefs)) for b in design.blocks])
    nodes = np.column_stack(
        [blk.index + off for blk, off in zip(design.blocks, offsets[:-1], strict=True)]
    )
    k, n = nodes.shape[1], int(offsets[-1])
    # each distinct pair of nodes once, as one integer (a 1-D unique is a plain sort)
    pairs = np.unique(np.repeat(nodes, k, axis=1).ravel() * n + np.tile(nodes, k).ravel())
    return np.bincount(pairs // n, weights=width[pairs % n], minlength=n)


@dataclass
class Layout:
    """Which effects and observations each connected component holds, and how components of
    similar size share a batch (before any array is built)."""

    slots: list[list[tuple[int, int, int]]]  # per component: (block position, level, coef)
    obs_of: list[np.ndarray]  # per component: its observations
    groups: list[np.ndarray]  # per batch: its components

    def batch_shapes(self) -> list[tuple[int, int, int]]:
        """(components, observations, effects) of each batch: Z is their product."""
        return [
            (len(g), max(len(self.obs_of[c]) for c in g), max(len(self.slots[c]) for c in g))
            for g in self.groups
        ]


def layout(design: Design, max_batches: int = 4) -> Layout:
    """The components of a design's varying effects and their batches (``components``)."""
    roots, offsets = _union_find(design)
    labels = np.unique(roots, return_inverse=True)[1]
    n_comp = int(labels.max()) + 1
    # effect slots of each component: the levels of each block, their coefficients in order
    slots: list[list[tuple[int, int, int]]] = [[] for _ in range(n_comp)]  # (block pos, level, a)
    for bi, blk in enumerate(design.blocks):
        for j in range(blk.n_levels):
            c = labels[offsets[bi] + j]
            for a in range(len(blk.coefs)):
                slots[c].append((bi, j, a))
    if len(design.blocks) > 1:
        degree = _node_degrees(design, offsets)
        groups_of = [blk.group for blk in design.blocks]
        for comp in slots:  # see _node_degrees
            comp.sort(
                key=lambda s: (degree[offsets[s[0]] + s[1]], groups_of[s[0]], s[1], s[0], s[2])
            )
    comp_of_obs = labels[offsets[0] + design.blocks[0].index]
    order_obs = np.argsort(comp_of_obs, kind="stable")
    bounds = np.searchsorted(comp_of_obs[order_obs], np.arange(n_comp + 1))
    obs_of = [order_obs[bounds[c] : bounds[c + 1]] for c in range(n_comp)]
    q = np.array([len(s) for s in slots])
    order = np.argsort(q, kind="stable")
    # similar sizes share a batch, so little work goes into padding
    groups = [g for g in np.array_split(order, min(max_batches, n_comp)) if len(g)]
    return Layout(slots, obs_of, _merge_equal_sizes(groups, q))


def _merge_equal_sizes(groups: list[np.ndarray], q: np.ndarray) -> list[np.ndarray]:
    # batches whose components have the same largest size need no extra padding as one,
    # and each batch costs its own operations in the graph
    merged: list[np.ndarray] = []
    for g in groups:
        if merged and q[merged[-1]].max() == q[g].max():
            merged[-1] = np.concatenate([merged[-1], g])
        else:
            merged.append(g)
    return merged


@dataclass(frozen=True)
class MarginalCost:
    """What integrating the varying effects out costs: the largest factorisation (effects of
    one component), the bytes of the batched matrices ``M`` (C·Q² per batch) and the
    Cholesky flops per log-density evaluation."""

    max_effects: int
    matrix_bytes: int
    cholesky_flops: float


def marginal_cost(design: Design) -> MarginalCost:
    """The size of the marginal likelihood's arrays and factorisations for a design."""
    shapes = layout(design).batch_shapes()
    return MarginalCost(
        max(q for _, _, q in shapes),
        sum(8 * c * q * q for c, _, q in shapes),
        sum(c * q**3 / 3 for c, _, q in shapes),
    )


def components(design: Design, max_batches: int = 4) -> Components:
    """Split a design's varying effects into independent components, batched by size."""
    lay = layout(design, max_batches)
    slots, obs_of, groups = lay.slots, lay.obs_of, lay.groups
    n_comp = len(slots)
    batches = [_batch(design, g, slots, obs_of) for g in groups]
    return Components(batches, n_comp)


def _batch(design: Design, g: np.ndarray, slots: list, obs_of: list) -> Batch:
    """One batch of components ``g``: effect positions, sparse entries and ZᵀZ."""
    Q = max(len(slots[c]) for c in g)
    C = len(g)
    pad = np.zeros((C, Q, Q))
    # flat column of (block, level, coef) in this batch, -1 for levels of other batches
    col_of = [np.full((b.n_levels, len(b.coefs)), -1, dtype=np.int64) for b in design.blocks]
    where_lists: dict[int, list] = {bi: [] for bi in range(len(design.blocks))}
    for row, c in enumerate(g):
        pos: dict[tuple[int, int], list[int]] = {}
        for p, (bi, j, a) in enumerate(slots[c]):
            col_of[bi][j, a] = row * Q + p
            pos.setdefault((bi, j), []).append(p)
        for p in range(len(slots[c]), Q):
            pad[row, p, p] = 1.0
        for (bi, j), ps in pos.items():
            where_lists[bi].append((j, row, ps))
    obs = np.sort(np.concatenate([obs_of[c] for c in g]))
    cols = np.column_stack(
        [col_of[bi][blk.index[obs], a] for bi, blk in enumerate(design.blocks)
         for a in range(len(blk.coefs))]
    )  # fmt: skip
    vals = np.column_stack([blk.Z[obs, a] for blk in design.blocks for a in range(len(blk.coefs))])
    comp = cols[:, :1] // Q  # every entry of an observation lies in its component
    p = cols - comp * Q
    pair_cols = (comp[:, :, None] * Q * Q + p[:, :, None] * Q + p[:, None, :]).reshape(len(obs), -1)
    pair_vals = (vals[:, :, None] * vals[:, None, :]).reshape(len(obs), -1)
    ZtZ = np.bincount(pair_cols.ravel(), pair_vals.ravel(), minlength=C * Q * Q)
    where = {}
    for bi, items in where_lists.items():
        if items:
            levels = np.array([it[0] for it in items], dtype=np.int64)
            rows = np.array([it[1] for it in items], dtype=np.int64)
            pos_ = np.array([it[2] for it in items], dtype=np.int64)
            where[bi] = (levels, rows, pos_)
    return Batch(
        np.asarray(g), Q, obs, cols, vals, pair_cols, pair_vals,
        ZtZ.reshape(C, Q, Q), pad, where,
    )  # fmt: skip


def marginal_loglik(
    design: Design,
    comps: Components,
    resid: pt.TensorVariable,
    v: pt.TensorVariable,
    cov_inv: list[pt.TensorVariable],
    logdet_cov: list[pt.TensorVariable],
    homoscedastic: bool,
) -> pt.TensorVariable:
    """log N(resid | 0, V + Z Λ Zᵀ) by Woodbury over the components.

    ``resid = y - eta`` (population part only), ``v`` the residual variances (a scalar when
    ``homoscedastic``), ``cov_inv[k]``/``logdet_cov[k]`` the inverse and log-determinant of
    block k's group-level covariance.
    """
    n = design.nobs
    quad = pt.sum(resid**2 / v)
    logdet_v = n * pt.log(v) if homoscedastic else pt.sum(pt.log(v))
    logdet_lambda = sum(
        blk.n_levels * ld for blk, ld in zip(design.blocks, logdet_cov, strict=True)
    )
    logdet_m = 0.0
    correction = 0.0
    for b in comps.batches:
        C, Q = b.n_components, b.n_effects
        if homoscedastic:
            ztvz = b.ZtZ / v
            contrib = b.vals * resid[b.obs][:, None] / v
        else:
            w = 1.0 / v[b.obs]
            ztvz = (
                pt.zeros(C * Q * Q)[b.pair_cols.ravel()]
                .inc(pt.flatten(b.pair_vals * w[:, None]))
                .reshape((C, Q, Q))
            )
            contrib = b.vals * (resid[b.obs] * w)[:, None]
        zr = pt.zeros(C * Q)[b.cols.ravel()].inc(pt.flatten(contrib)).reshape((C, Q))
        M = ztvz + b.pad_eye
        for bi, (levels, rows, pos) in b.where.items():
            block = cov_inv[bi]
            M = pt.inc_subtensor(
                M[rows[:, None, None], pos[:, :, None], pos[:, None, :]],
                pt.broadcast_to(block, (len(levels), *block.shape)),
            )
        logdet_b, quad_b = logdet_and_quad(M, zr, size=Q, envelope=b.envelope)
        logdet_m = logdet_m + logdet_b
        correction = correction + quad_b
    return -0.5 * (n * np.log(2 * np.pi) + logdet_v + logdet_lambda + logdet_m + quad - correction)


def compiled_draws_pay_off(draws: int, n_components: int, n_effects: int) -> bool:
    """Whether ``conditional_draws`` (one compiled loop; 0.15 s to load from Numba's cache in a
    new process) beats NumPy's batched Cholesky and solves for a batch. NumPy's cost per
    matrix was about 0.5 µs plus 1 ns × Q³ (4,000 draws: 18 × 2 × 2 components 0.04 s, 160 × 2
    × 2 0.30 s, 107 × 20 × 20 4.2 s; the loop 0.002, 0.016 and 0.71 s). Above 120 effects
    LAPACK's blocked factorisation wins (per matrix, loop against NumPy: 120 effects 217
    against 428 µs, 200 effects 1,846 against 1,585 µs)."""
    if n_effects > 120:
        return False
    return draws * n_components * (5e-7 + 1e-9 * n_effects**3) > 0.15


def draw_group_effects(
    design: Design,
    comps: Components,
    resid: np.ndarray,
    v: np.ndarray,
    cov_inv: list[np.ndarray],
    rng: np.random.Generator,
    chunk: int = 256,
    total_draws: int | None = None,
) -> list[np.ndarray]:
    """Exact conditional draws of the varying effects, one per posterior draw.

    Parameters
    ----------
    resid : (S, N) y minus the population part of the linear predictor, per draw
    v : (S,) or (S, N) residual variances
    cov_inv : per block, (S, m, m) inverse group-level covariance
    total_draws : the draws of the whole fit when these S are a part of them (for the choice
        of ``compiled_draws_pay_off``; S when not given)

    Returns
    -------
    list of (S, levels, coefs) arrays, one per block (brms's ``r_k``)
    """
    S = resid.shape[0]
    out = [np.zeros((S, b.n_levels, len(b.coefs))) for b in design.blocks]
    homo = v.ndim == 1
    for start in range(0, S, chunk):
        sl = slice(start, min(S, start + chunk))
        for b in comps.batches:
            C, Q = b.n_components, b.n_effects
            n = resid.shape[1]
            Zs = b.sparse_design(n)
            if homo:
                vv = v[sl][:, None, None]
                ztvz = b.ZtZ[None] / vv[..., None]
                zr = (Zs.T @ resid[sl].T).T.reshape(-1, C, Q) / vv
            else:
                w = 1.0 / v[sl]  # (s, N)
                ztvz = (b.sparse_products(n).T @ w.T).T.reshape(-1, C, Q, Q)
                zr = (Zs.T @ (resid[sl] * w).T).T.reshape(-1, C, Q)
            M = ztvz + b.pad_eye[None]
            for bi, (_, rows, pos) in b.where.items():
                ci = cov_inv[bi][sl]  # (s, m, m)
                # every level's (component, position) pairs are distinct: one fancy update
                M[:, rows[:, None, None], pos[:, :, None], pos[:, None, :]] += ci[:, None]
            # mean = M^-1 zr; draw = mean + L^-T eps
            eps = rng.standard_normal(zr.shape)
            if compiled_draws_pay_off(total_draws or S, C, Q):
                u = conditional_draws(M, zr, eps)  # (s, C, Q)
            else:
                L = np.linalg.cholesky(M)
                y1 = np.linalg.solve(L, zr[..., None])
                u = np.linalg.solve(np.swapaxes(L, -1, -2), y1 + eps[..., None])[..., 0]
            for bi, (levels, rows, pos) in b.where.items():
                out[bi][sl][:, levels, :] = u[:, rows[:, None], pos]
    return out
