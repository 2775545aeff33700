"""How group-level effects enter a model: one registry of strategies.

* ``noncentred`` — brms's non-centred model: ``r_k = (W_k z_k)ᵀ`` with standard normal ``z_k``
  and ``W_k W_kᵀ = Σ_k``; brms's ``W_k = diag(sd_k) · L_k`` for uncorrelated blocks (no ``L_k``),
  and for correlated ones signed sds and the square root of the centred design's covariance
  (``_centred_root``).
* ``marginal`` — Gaussian models with the identity link: the effects are integrated out of the
  likelihood (``bayesml.marginal``) and drawn afterwards from their exact conditional; the sds
  are sampled as signed scales (``signed_hyperparameters``).
* ``given`` — prediction models: the effects are inputs filled from stored draws.

Each strategy adds a block's parameters to the model in context and returns what the
likelihood needs: the effects ``r`` (levels × coefficients) or, for ``marginal``, the
hyperparameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .design import Design, GroupBlock
from .families import Family
from .marginal import marginal_cost
from .rvs import coefficient_vector, lkj_cholesky, lkj_eta, same_prior, signed_prior
from .terms import PREDICTOR_TERMS
from .terms.base import prior_dpar

__all__ = [
    "GROUP_EFFECTS",
    "Strategy",
    "centring_pattern",
    "cov_inverse",
    "has_signed_scales",
    "hyperparameters",
    "integrated_blocks",
    "integrated_design",
    "marginal_obstacle",
    "nested",
    "noncentred_signed",
    "resolve_group_effects",
    "signed_hyperparameters",
]


def _sd_rows(block: GroupBlock, priors) -> list:
    return [
        priors.resolve("sd", c, block.group, prior_dpar(d))
        for c, d in zip(block.prior_coefs, block.dpars, strict=True)
    ]


def hyperparameters(block: GroupBlock, priors):
    """sd_k (and the correlation Cholesky factor L_k) of one block; L is None without
    correlations."""
    k = block.id
    sd = coefficient_vector(
        f"sd_{k}",
        "sd",
        block.coefs,
        block.coef_dim,
        priors,
        block.group,
        prior_coefs=block.prior_coefs,
        dpars=tuple(prior_dpar(d) for d in block.dpars),
    )
    L = None
    if block.has_cor:
        L = lkj_cholesky(f"L_{k}", len(block.coefs), lkj_eta(priors, block.group))
    return sd, L


def has_signed_scales(block: GroupBlock, priors) -> bool:
    """Whether every sd of a block has a prior with a signed form (see ``rvs.signed_prior``)."""
    return all(signed_prior(r) for r in _sd_rows(block, priors))


def signed_hyperparameters(block: GroupBlock, priors):
    """Group-level sds as signed scales ``s`` with ``sd = |s|`` (marginal models).

    With the varying effects integrated out the likelihood depends on the covariance
    ``diag(s) R diag(s)`` only, which is smooth through ``s = 0``: the sampler moves through
    small sds on their natural scale instead of the log scale's long left tail, where weakly
    identified sds (and their correlations) mixed slowly. A sign flip of ``s_i`` maps the
    correlation matrix to ``S R S``; the LKJ prior is invariant under it, so ``sd = |s|`` and
    ``L = S L_signed`` (correlations ``S R S``) have exactly brms's prior and posterior.

    Returns ``(s, L_signed)``, which enter the likelihood; ``sd_k = |s|`` and ``L_k`` are
    added under brms's names. None when some sd's prior has no signed form.
    """
    k = block.id
    rows = _sd_rows(block, priors)
    builders = [signed_prior(r) for r in rows]
    if any(b is None for b in builders):
        return None
    if same_prior(rows):
        s = builders[0](f"sd_{k}_signed", dims=block.coef_dim)
    else:
        parts = [b(f"sd_{k}_signed_{c}") for b, c in zip(builders, block.coefs, strict=True)]
        s = pt.stack(parts)
    pm.Deterministic(f"sd_{k}", pt.abs(s), dims=block.coef_dim)
    L_signed = None
    if block.has_cor:
        L_signed = lkj_cholesky(f"L_{k}_signed", len(block.coefs), lkj_eta(priors, block.group))
        pm.Deterministic(f"L_{k}", pt.sign(s)[:, None] * L_signed)
    return s, L_signed


# Up to this many correlated effects per block, L⁻¹ is built by forward substitution from
# elementwise operations. PyTensor's triangular solve and matrix products call BLAS/LAPACK
# through pointers looked up in Numba's object mode at the first call in every process (six
# lookups, about 0.25 s, for sleepstudy's (Days | Subject)); for small blocks the unrolled
# operations are as fast and need no lookup.
UNROLLED_INVERSE_MAX = 8


def _lower_inverse(L, n: int):
    """L⁻¹ of a lower-triangular n × n L, row by row: (L⁻¹)ᵢ = (eᵢ − Σₖ₍ₖ<ᵢ₎ Lᵢₖ (L⁻¹)ₖ) / Lᵢᵢ."""
    eye = np.eye(n)
    rows: list = []
    for i in range(n):
        row = pt.as_tensor_variable(eye[i])
        for k in range(i):
            row = row - L[i, k] * rows[k]
        rows.append(row / L[i, i])
    return pt.stack(rows)


def cov_inverse(sd, L):
    """Inverse and log-determinant of diag(sd) L Lᵀ diag(sd) (pytensor)."""
    # sd may be a signed scale (see signed_hyperparameters)
    if L is None:
        return pt.diag(1 / sd**2), pt.sum(pt.log(sd**2))
    n = L.type.shape[0]
    if n is not None and n <= UNROLLED_INVERSE_MAX:
        Linv = _lower_inverse(L, n)
        # Linvᵀ Linv as a broadcast sum: no BLAS call (see UNROLLED_INVERSE_MAX)
        Rinv = (Linv[:, :, None] * Linv[:, None, :]).sum(0)
    else:
        Linv = pt.linalg.solve_triangular(L, pt.eye(L.shape[0]), lower=True)
        Rinv = Linv.T @ Linv
    d = 1 / sd
    logdet = pt.sum(pt.log(sd**2)) + 2 * pt.sum(pt.log((L * pt.eye(L.shape[0])).sum(-1)))
    return d[:, None] * Rinv * d[None, :], logdet


def noncentred_signed(block: GroupBlock, priors) -> bool:
    """Whether a non-centred block samples its sds as signed scales: correlated blocks whose
    sd priors have a signed form (``signed_hyperparameters``). With log-scale sds, chains of a
    Poisson ``y ~ x + (x | g)`` stuck even in the centred square root's coordinates (R-hat
    1.6-8.5); with signed ones none did (benchmarks/README.md)."""
    return block.has_cor and has_signed_scales(block, priors)


def centring_pattern(block: GroupBlock) -> np.ndarray | None:
    """Which columns of a correlated block's design are centred in its square root:
    ``P[i, j] = 1`` when column ``j`` (a plain column, no ``mo()`` or ``cs()``) enters the
    same predictor as the block's intercept column ``i``. None where nothing is centred."""
    if not block.has_cor:
        return None
    n = len(block.coefs)
    plain = [block.monotonic[j] is None and block.thresholds[j] is None for j in range(n)]
    intercepts = {
        block.dpars[j]: j for j in range(n) if plain[j] and block.prior_coefs[j] == "Intercept"
    }
    P = np.zeros((n, n))
    for j in range(n):
        i = intercepts.get(block.dpars[j])
        if plain[j] and i is not None and i != j:
            P[i, j] = 1.0
    return P if P.any() else None


def _small_matmul(X, Y):
    """X @ Y for small matrices as a broadcast sum (no BLAS call: see UNROLLED_INVERSE_MAX)."""
    return (X[:, :, None] * Y[None, :, :]).sum(1)


def _lower_cholesky(S, n: int):
    """Cholesky factor of a symmetric positive-definite n × n S (pytensor); unrolled into
    elementwise operations up to UNROLLED_INVERSE_MAX."""
    if n > UNROLLED_INVERSE_MAX:
        return pt.linalg.cholesky(S)
    L: list[list] = [[pt.constant(0.0)] * n for _ in range(n)]
    for j in range(n):
        L[j][j] = pt.sqrt(S[j, j] - sum((L[j][m] ** 2 for m in range(j)), pt.constant(0.0)))
        for i in range(j + 1, n):
            dot = sum((L[i][m] * L[j][m] for m in range(j)), pt.constant(0.0))
            L[i][j] = (S[i, j] - dot) / L[j][j]
    return pt.stack([pt.stack(row) for row in L])


def _centred_root(block: GroupBlock, sd, L):
    """A square root ``W`` (``W Wᵀ = Σ = diag(sd) L Lᵀ diag(sd)``) of a correlated block's
    covariance whose standardised effects are those of the design centred on its column means.

    With ``Z c = Z A⁻¹ · A c`` for ``A = I + E`` (``E = P · diag(means)``, ``P`` from
    ``centring_pattern``), the effects of the centred design ``Z A⁻¹`` are ``A r``, with
    covariance ``A Σ Aᵀ``; their Cholesky factor ``C`` gives ``r = A⁻¹ C z``, and ``A⁻¹ = I − E``
    because ``E² = 0``. The model is brms's (``r ~ N(0, Σ)`` for any square root); only the
    sampler's coordinates ``z`` change, from the intercept at zero to the intercept at the
    data's centre, which the data identify nearly independently of the slopes. The means are a
    data container, so new data of the same shape reuse the compiled model.
    """
    M = sd[:, None] * L
    P = centring_pattern(block)
    if P is None:
        return M
    n = len(block.coefs)
    means = pm.Data(f"Zmean_{block.id}", np.asarray(block.Z, float).mean(0), dims=block.coef_dim)
    E = pt.as_tensor_variable(P) * means[None, :]
    AM = M + _small_matmul(E, M)
    C = _lower_cholesky(_small_matmul(AM, AM.T), n)
    return C - _small_matmul(E, C)


def _noncentred(block: GroupBlock, priors):
    """brms's non-centred varying effects for one block; returns r (levels × coefs).

    Correlated blocks sample their sds as signed scales (``noncentred_signed``) and their
    effects through the centred square root (``_centred_root``); both leave brms's model
    unchanged.
    """
    k = block.id
    signed = signed_hyperparameters(block, priors) if noncentred_signed(block, priors) else None
    sd, L = signed or hyperparameters(block, priors)
    z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(block.coef_dim, block.group))
    if L is None:
        r = (sd[:, None] * z).T
    elif len(block.coefs) <= UNROLLED_INVERSE_MAX:
        r = _small_matmul(_centred_root(block, sd, L), z).T  # no BLAS call (see above)
    else:
        r = (_centred_root(block, sd, L) @ z).T
    return pm.Deterministic(f"r_{k}", r, dims=(block.group, block.coef_dim))


def _given(block: GroupBlock, priors):
    """r as an input whose values come from stored draws (prediction models)."""
    return pm.Flat(f"r_{block.id}", dims=(block.group, block.coef_dim))


def _marginal(block: GroupBlock, priors):
    """The block's hyperparameters, signed where the priors allow (see above)."""
    return signed_hyperparameters(block, priors) or hyperparameters(block, priors)


@dataclass(frozen=True)
class Strategy:
    """One way for varying effects to enter a model.

    ``add(block, priors)`` adds the block's parameters to the model in context and returns
    the effects ``r`` or, when ``integrates_out``, the hyperparameters ``(sd, L)``.
    """

    name: str
    add: Callable
    integrates_out: bool = False
    doc: str = ""


GROUP_EFFECTS: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("noncentred", _noncentred, doc="brms's non-centred model"),
        Strategy(
            "marginal",
            _marginal,
            True,
            "integrated out of a Gaussian likelihood where the factorisation is small "
            "(integrated_blocks), non-centred elsewhere",
        ),
        Strategy("given", _given, doc="inputs from stored draws (predictions)"),
        Strategy(
            "latent",
            _noncentred,
            doc="non-centred varying effects; smooth and GP coefficients of mu integrated out "
            "of a Gaussian likelihood (bayesml.latent)",
        ),
    )
}


def marginal_obstacle(design: Design, family: Family) -> str | None:
    """Why the varying effects cannot be integrated out (None: they can)."""
    if not design.blocks:
        return "the model has no group-level terms"
    if family.name != "gaussian" or family.link_name != "identity":
        return "only gaussian models with the identity link allow it"
    if "weights" in design.additions:
        return "weights() are not supported there"
    if "cens" in design.additions or "lb" in design.additions:
        return "censored or truncated rows have no normal likelihood"
    if any(set(b.dpars) != {"mu"} for b in design.blocks):
        return "group-level terms of sigma's formula enter the variance, not the mean"
    if any(b.has_monotonic for b in design.blocks):
        return "varying mo() effects depend on parameters"
    return None


# Largest marginal likelihood "auto" integrates out (benchmarks/README.md): the seed models'
# largest is classroom_uncorr's (components of up to 20 effects, 8.5e4 flops). In
# the 75k-row crossed model, integrating lecturers and department × service cells out (14
# components of ~82 effects, 2.6e6 flops) made a gradient cost 6.5 ms against 1.1 ms with the
# cells alone; all 4,128 effects would be 2e10 flops per evaluation.
MARGINAL_MAX_FLOPS = 1e6  # Cholesky flops per log-density evaluation
MARGINAL_MAX_BYTES = 256 * 2**20  # the batched matrices M
# Largest component that integrating crossed factors out together may make. Simulated
# Gaussian (1 | a) + (1 | b) designs, bulk ESS per sampler second with both integrated out
# against the data-rich one alone (the other non-centred): 18 effects 5,398 / 3,255; 25
# effects 2,947 / 4,701; 30: 4,126 / 5,252; blp_crossed (56 and 80): about 360 / 2,700.
# Nested factors keep integrating out together (30 effects per school: 1,252 / 661).
MARGINAL_MAX_CROSSED = 20


def marginal_too_large(design: Design) -> str | None:
    """Why integrating the effects out would cost too much (None: it is small enough)."""
    cost = marginal_cost(design)
    if cost.cholesky_flops > MARGINAL_MAX_FLOPS or cost.matrix_bytes > MARGINAL_MAX_BYTES:
        return (
            f"its largest factorisation has {cost.max_effects:,} effects "
            f"({cost.cholesky_flops:.2g} flops per evaluation)"
        )
    return None


def nested(inner: GroupBlock, outer: GroupBlock) -> bool:
    """Whether every level of ``inner`` falls within one level of ``outer`` in the data
    (classes in schools; a grouping factor in itself)."""
    first = np.full(inner.n_levels, -1)
    first[inner.index] = outer.index
    return bool(np.all(first[inner.index] == outer.index))


def _crossed_too_large(design: Design, chosen: list[GroupBlock], blk: GroupBlock) -> bool:
    """Whether adding ``blk`` to the integrated ``chosen`` crosses a factor (neither nested in
    the other) into a component of more than ``MARGINAL_MAX_CROSSED`` effects."""
    if all(nested(blk, c) or nested(c, blk) for c in chosen):
        return False
    trial = sorted([*chosen, blk], key=lambda b: b.id)
    return marginal_cost(replace(design, blocks=tuple(trial))).max_effects > MARGINAL_MAX_CROSSED


def integrated_blocks(design: Design) -> tuple[int, ...]:
    """Ids of the blocks a marginal model integrates out: block by block from the most rows
    per effect (data-rich levels, where non-centred effects sample worst) to the fewest,
    each block that keeps the factorisation small (``marginal_too_large``) and, if it
    crosses a chosen factor, keeps the crossed components within ``MARGINAL_MAX_CROSSED``
    effects. The others stay non-centred: in a crossed model the data-rich factor is
    integrated out and the other keeps its effects as parameters, which samples faster than
    one large factorisation; nested factors are integrated out together."""
    order = sorted(design.blocks, key=lambda b: (-design.nobs / (b.n_levels * len(b.coefs)), b.id))
    chosen: list[GroupBlock] = []
    for blk in order:
        trial = sorted([*chosen, blk], key=lambda b: b.id)
        if marginal_too_large(replace(design, blocks=tuple(trial))) is None and not (
            _crossed_too_large(design, chosen, blk)
        ):
            chosen = trial
    return tuple(b.id for b in chosen)


def integrated_design(design: Design, ids: tuple[int, ...]) -> Design:
    """The design with only the blocks ``ids`` (those a marginal model integrates out)."""
    return replace(design, blocks=tuple(b for b in design.blocks if b.id in ids))


def has_latent_terms(design: Design) -> bool:
    """Whether mu's predictor has smooth or GP terms (``TermKind.latent``) with coefficients."""
    mu = design.predictors.get("mu")
    if mu is None:
        return False
    for kind, term in mu.terms.items():
        if PREDICTOR_TERMS[kind].latent and getattr(term, "parts", ()):
            return True
    return False


def latent_obstacle(design: Design, family: Family) -> str | None:
    """Why mu's smooth and GP coefficients cannot be integrated out (None: they can; see
    ``bayesml.latent``)."""
    if not has_latent_terms(design):
        return "the model has no smooth or GP terms in mu's formula"
    if family.name != "gaussian" or family.link_name != "identity":
        return "only gaussian models with the identity link allow it"
    for addition in ("weights", "cens", "lb"):
        if addition in design.additions:
            return "weights(), cens() and trunc() rows have no plain normal likelihood"
    return None


def resolve_group_effects(group_effects: str, design: Design, family: Family) -> str:
    """The strategy to use: ``"auto"`` integrates out where it can (see
    ``marginal_obstacle``) the blocks whose factorisation is small (``integrated_blocks``),
    else brms's non-centred parameterisation. A Gaussian model with
    smooth or GP terms integrates those out instead (``latent_obstacle``); its varying effects
    are then non-centred under ``"auto"``."""
    obstacle = marginal_obstacle(design, family)
    latent = latent_obstacle(design, family)
    if group_effects == "auto":
        if latent is None:
            return "latent"
        if obstacle is None and integrated_blocks(design):
            return "marginal"
        return "noncentred"
    if group_effects == "latent" and latent is not None:
        raise ValueError(
            f"Smooth and GP coefficients can be integrated out only for gaussian models with "
            f"the identity link; here {latent}. Use group_effects='noncentred'."
        )
    if group_effects not in GROUP_EFFECTS:
        raise ValueError(
            f"Unknown group_effects '{group_effects}'; use 'auto' or "
            f"{', '.join(repr(k) for k in GROUP_EFFECTS)}."
        )
    if group_effects == "marginal" and obstacle is not None:
        raise ValueError(
            f"Varying effects can be integrated out only for gaussian models with the identity "
            f"link and no weights(); here {obstacle}. Use group_effects='noncentred'."
        )
    if group_effects == "marginal" and not integrated_blocks(design):
        raise ValueError(
            "No block of varying effects is small enough to integrate out: "
            f"{marginal_too_large(design)}. Use group_effects='noncentred'."
        )
    return group_effects
