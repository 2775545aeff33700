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
padded into one batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from .design import Design

__all__ = ["Components", "components", "marginal_loglik", "draw_group_effects"]


@dataclass
class Batch:
    """Components padded to the same size ``Q`` (effects) and ``NC`` (observations)."""

    comp_ids: np.ndarray  # (C,) component numbers
    obs: np.ndarray  # (C, NC) observation index, 0 where padded
    mask: np.ndarray  # (C, NC) 1.0 for real observations
    Z: np.ndarray  # (C, NC, Q) group-level design of each component's effects
    ZtZ: np.ndarray  # (C, Q, Q)
    pad_eye: np.ndarray  # (C, Q, Q) identity on padded effect slots
    # per block k: (c_k, pos_k): level j of block k sits in batch row c_k[j] at positions pos_k[j]
    where: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]  # k -> (levels, c, pos)


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


def components(design: Design, max_batches: int = 4) -> Components:
    """Split a design's varying effects into independent components, batched by size."""
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
    comp_of_obs = labels[offsets[0] + design.blocks[0].index]
    obs_of = [np.flatnonzero(comp_of_obs == c) for c in range(n_comp)]
    q = np.array([len(s) for s in slots])
    order = np.argsort(q, kind="stable")
    # similar sizes share a batch, so little work goes into padding
    groups = [g for g in np.array_split(order, min(max_batches, n_comp)) if len(g)]
    batches = []
    for g in groups:
        Q = int(q[g].max())
        NC = int(max(len(obs_of[c]) for c in g))
        C = len(g)
        obs = np.zeros((C, NC), dtype=np.int64)
        mask = np.zeros((C, NC))
        Z = np.zeros((C, NC, Q))
        pad = np.zeros((C, Q, Q))
        where_lists: dict[int, list] = {bi: [] for bi in range(len(design.blocks))}
        for row, c in enumerate(g):
            ob = obs_of[c]
            obs[row, : len(ob)] = ob
            mask[row, : len(ob)] = 1.0
            pos = {}
            for p, (bi, j, a) in enumerate(slots[c]):
                blk = design.blocks[bi]
                pos.setdefault((bi, j), []).append(p)
                on_level = blk.index[ob] == j
                Z[row, : len(ob), p] = np.where(on_level, blk.Z[ob, a], 0.0)
            for p in range(len(slots[c]), Q):
                pad[row, p, p] = 1.0
            for (bi, j), ps in pos.items():
                where_lists[bi].append((j, row, ps))
        ZtZ = np.einsum("cni,cnj->cij", Z, Z)
        where = {}
        for bi, items in where_lists.items():
            if items:
                levels = np.array([it[0] for it in items], dtype=np.int64)
                rows = np.array([it[1] for it in items], dtype=np.int64)
                pos = np.array([it[2] for it in items], dtype=np.int64)
                where[bi] = (levels, rows, pos)
        batches.append(Batch(np.asarray(g), obs, mask, Z, ZtZ, pad, where))
    return Components(batches, n_comp)


def _diag(x):
    # diagonal of a batch of matrices by masking: the gradient stays elementwise
    return (x * pt.eye(x.shape[-1])).sum(-1)


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
        r = resid[b.obs] * b.mask  # (C, NC)
        if homoscedastic:
            ztvz = b.ZtZ / v
            zr = pt.einsum("cnq,cn->cq", b.Z, r) / v
        else:
            w = b.mask / v[b.obs]
            ztvz = pt.einsum("cni,cn,cnj->cij", b.Z, w, b.Z)
            zr = pt.einsum("cnq,cn->cq", b.Z, r * w)
        M = ztvz + b.pad_eye
        for bi, (levels, rows, pos) in b.where.items():
            block = cov_inv[bi]
            M = pt.inc_subtensor(
                M[rows[:, None, None], pos[:, :, None], pos[:, None, :]],
                pt.broadcast_to(block, (len(levels), *block.shape)),
            )
        chol = pt.linalg.cholesky(M)
        a = pt.linalg.solve_triangular(chol, zr[..., None], lower=True)[..., 0]
        logdet_m = logdet_m + 2 * pt.sum(pt.log(_diag(chol)))
        correction = correction + pt.sum(a**2)
    return -0.5 * (n * np.log(2 * np.pi) + logdet_v + logdet_lambda + logdet_m + quad - correction)


def draw_group_effects(
    design: Design,
    comps: Components,
    resid: np.ndarray,
    v: np.ndarray,
    cov_inv: list[np.ndarray],
    rng: np.random.Generator,
    chunk: int = 256,
) -> list[np.ndarray]:
    """Exact conditional draws of the varying effects, one per posterior draw.

    Parameters
    ----------
    resid : (S, N) y minus the population part of the linear predictor, per draw
    v : (S,) or (S, N) residual variances
    cov_inv : per block, (S, m, m) inverse group-level covariance

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
            r = resid[sl][:, b.obs] * b.mask  # (s, C, NC)
            if homo:
                vv = v[sl][:, None, None]
                ztvz = b.ZtZ[None] / vv[..., None]
                zr = np.einsum("cnq,scn->scq", b.Z, r) / vv
            else:
                w = b.mask[None] / v[sl][:, b.obs]
                ztvz = np.einsum("cni,scn,cnj->scij", b.Z, w, b.Z)
                zr = np.einsum("cnq,scn->scq", b.Z, r * w)
            M = ztvz + b.pad_eye[None]
            for bi, (levels, rows, pos) in b.where.items():
                ci = cov_inv[bi][sl]  # (s, m, m)
                for li in range(len(levels)):
                    idx = np.ix_(pos[li], pos[li])
                    M[:, rows[li], idx[0], idx[1]] += ci
            L = np.linalg.cholesky(M)
            # mean = M^-1 zr; draw = mean + L^-T eps
            y1 = np.linalg.solve(L, zr[..., None])
            eps = rng.standard_normal(y1.shape)
            u = np.linalg.solve(np.swapaxes(L, -1, -2), y1 + eps)[..., 0]  # (s, C, Q)
            for bi, (levels, rows, pos) in b.where.items():
                out[bi][sl][:, levels, :] = u[:, rows[:, None], pos]
    return out
