"""How group-level effects enter a model: one registry of strategies.

* ``noncentred`` — brms's parameterisation: ``r_k = (diag(sd_k) · L_k · z_k)ᵀ`` with standard
  normal ``z_k`` (uncorrelated blocks have no ``L_k``).
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
from dataclasses import dataclass

import pymc as pm
import pytensor.tensor as pt

from .design import Design, GroupBlock
from .families import Family
from .rvs import coefficient_vector, lkj_cholesky, lkj_eta, same_prior, signed_prior
from .terms import PREDICTOR_TERMS
from .terms.base import prior_dpar

__all__ = [
    "GROUP_EFFECTS",
    "Strategy",
    "cov_inverse",
    "has_signed_scales",
    "hyperparameters",
    "marginal_obstacle",
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


def cov_inverse(sd, L):
    """Inverse and log-determinant of diag(sd) L Lᵀ diag(sd) (pytensor)."""
    # sd may be a signed scale (see signed_hyperparameters)
    if L is None:
        return pt.diag(1 / sd**2), pt.sum(pt.log(sd**2))
    Linv = pt.linalg.solve_triangular(L, pt.eye(L.shape[0]), lower=True)
    Rinv = Linv.T @ Linv
    d = 1 / sd
    logdet = pt.sum(pt.log(sd**2)) + 2 * pt.sum(pt.log((L * pt.eye(L.shape[0])).sum(-1)))
    return d[:, None] * Rinv * d[None, :], logdet


def _noncentred(block: GroupBlock, priors):
    """brms's non-centred varying effects for one block; returns r (levels × coefs)."""
    k = block.id
    sd, L = hyperparameters(block, priors)
    z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(block.coef_dim, block.group))
    r = (pt.diag(sd) @ L @ z).T if L is not None else (sd[:, None] * z).T
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
        Strategy("noncentred", _noncentred, doc="brms's non-centred parameterisation"),
        Strategy("marginal", _marginal, True, "integrated out of a Gaussian likelihood"),
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
    ``marginal_obstacle``), else brms's non-centred parameterisation. A Gaussian model with
    smooth or GP terms integrates those out instead (``latent_obstacle``); its varying effects
    are then non-centred under ``"auto"``."""
    obstacle = marginal_obstacle(design, family)
    latent = latent_obstacle(design, family)
    if group_effects == "auto":
        if latent is None:
            return "latent"
        return "marginal" if obstacle is None else "noncentred"
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
    return group_effects
