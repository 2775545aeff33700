"""PyMC random variables for prior rows, as brms declares its parameters.

Bounds follow brms: a symmetric prior centred at 0 with ``lb = 0`` is its half distribution
(what brms's truncation amounts to); other bounds truncate. ``constant(x)`` fixes a parameter.
Coefficients that share a prior are one vector variable; a prior per coefficient gives one
variable each, stacked under the vector's name. Correlation factors use Stan's tanh transform
(``bayesml.transforms``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ._rformat import r_num
from .priors import DISTRIBUTIONS, PriorDist, PriorError, parse_prior, signed_form
from .transforms import CPCCholeskyCorr

__all__ = [
    "coefficient_vector",
    "lkj_cholesky",
    "lkj_eta",
    "prior_logp",
    "prior_rv",
    "real_line_prior",
    "same_prior",
    "signed_dist",
    "signed_prior",
]


def prior_rv(name: str, row, transform=None, **shape) -> pt.TensorVariable:
    """A PyMC random variable for a prior row (``PriorRow``), honouring its bounds like brms.

    A symmetric prior centred at 0 with ``lb = 0`` becomes its half distribution (what brms's
    truncation amounts to); other bounds truncate the distribution. ``transform`` (a change
    of the sampler's coordinates) applies to priors on the whole real line only; bounded
    variables keep their own transform.
    """
    dist = parse_prior(row.prior)
    lb = float(row.lb) if row.lb else None
    ub = float(row.ub) if row.ub else None
    if dist is not None and dist.name == "constant":
        return _constant(name, dist.args[0], lb, ub, **shape)
    if dist is None:
        if lb == 0.0 and ub is None:
            return pm.HalfFlat(name, **shape)
        if lb is None and ub is None:
            if transform is not None:
                shape = {**shape, "transform": transform}
            return pm.Flat(name, **shape)
        raise PriorError(f"A flat prior with bounds [{lb}, {ub}] is not supported for '{name}'.")
    if dist.name not in DISTRIBUTIONS:
        raise PriorError(f"Prior '{dist}' cannot be used for parameter '{name}'.")
    info = DISTRIBUTIONS[dist.name]
    lo, hi = info.support
    needs_lb = lb is not None and lb > lo
    needs_ub = ub is not None and ub < hi
    if not needs_lb and not needs_ub:
        if transform is not None and info.support == (-math.inf, math.inf):
            shape = {**shape, "transform": transform}
        return info.build(*dist.args)(name, **shape)
    if (
        lb == 0.0
        and not needs_ub
        and info.symmetric_half is not None
        and dist.args[info.location] == 0
    ):
        return info.symmetric_half(name, *dist.args, **shape)
    return pm.Truncated(name, info.dist(*dist.args), lower=lb, upper=ub, **shape)


def real_line_prior(row) -> bool:
    """Whether a prior row is flat or a known distribution on the whole real line, without
    bounds: a prior that ``prior_logp`` can evaluate at any value."""
    if row.lb or row.ub:
        return False
    dist = parse_prior(row.prior)
    if dist is None:
        return True
    info = DISTRIBUTIONS.get(dist.name)
    return info is not None and info.support == (-math.inf, math.inf)


def prior_logp(row, value) -> pt.TensorVariable:
    """The log density of a prior row (``real_line_prior``) at ``value``, summed: the prior of
    a parameter the model computes from sampled values rather than samples itself (0 for a
    flat prior)."""
    if not real_line_prior(row):
        raise PriorError(f"Prior '{row.prior}' cannot be evaluated at a computed value.")
    dist = parse_prior(row.prior)
    if dist is None:
        return pt.constant(0.0)
    return pt.sum(pm.logp(DISTRIBUTIONS[dist.name].dist(*dist.args), value))


def _constant(name: str, value: float, lb, ub, **shape) -> pt.TensorVariable:
    """A parameter fixed by ``constant(x)``: no draws are sampled, every draw equals x."""
    if (lb is not None and value < lb) or (ub is not None and value > ub):
        raise PriorError(f"constant({r_num(value)}) lies outside the bounds of '{name}'.")
    dims = shape.get("dims")
    if dims is None:
        return pm.Deterministic(name, pt.as_tensor_variable(np.float64(value)))
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    model = pm.modelcontext(None)
    size = [len(model.coords[d]) for d in dims]
    return pm.Deterministic(name, pt.fill(pt.zeros(size), np.float64(value)), dims=dims)


def same_prior(rows: list) -> bool:
    """Whether every row has the same prior and bounds (one vector RV can carry them)."""
    return all((r.prior, r.lb, r.ub) == (rows[0].prior, rows[0].lb, rows[0].ub) for r in rows)


def coefficient_vector(
    name: str,
    class_: str,
    coefs: tuple[str, ...],
    dim: str,
    priors,
    group: str = "",
    dpar: str = "",
    prior_coefs: tuple[str, ...] | None = None,
    dpars: tuple[str, ...] | None = None,
    transforms: tuple | None = None,
) -> pt.TensorVariable:
    """One vector RV when all coefficients share a prior, else one RV per coefficient.

    ``prior_coefs``/``dpars`` give each coefficient's name and parameter in the prior table
    when they differ from ``coefs`` (the varying effects of several parameters in one block).
    ``transforms = (for the vector, [for each coefficient])`` change the sampler's
    coordinates (``prior_rv``).
    """
    prior_coefs = prior_coefs or coefs
    dpars = dpars or (dpar,) * len(coefs)
    rows = [priors.resolve(class_, c, group, d) for c, d in zip(prior_coefs, dpars, strict=True)]
    vector_tf, element_tfs = transforms or (None, [None] * len(coefs))
    if same_prior(rows):
        return prior_rv(name, rows[0], transform=vector_tf, dims=dim)
    parts = [
        prior_rv(f"{name}_{c}", r, transform=tf)
        for c, r, tf in zip(coefs, rows, element_tfs, strict=True)
    ]
    return pm.Deterministic(name, pt.stack(parts), dims=dim)


def lkj_cholesky(name: str, n: int, eta: float) -> pt.TensorVariable:
    """brms's ``lkj_corr_cholesky(eta)`` with Stan's tanh transform (see ``transforms``).

    Its initial value is the identity, the LKJ's support point, given directly: otherwise
    the initial-point function draws an LKJ variable to find it, whose sampler PyTensor
    compiles with its C backend (0.4 s in every process)."""
    return pm.LKJCorr(name, n=n, eta=eta, default_transform=CPCCholeskyCorr(n), initval=np.eye(n))


def lkj_eta(priors, group: str) -> float:
    """The lkj concentration of a group's correlations."""
    row = priors.resolve("cor", "", group)
    dist = parse_prior(row.prior)
    if dist is None or dist.name not in ("lkj", "lkj_corr_cholesky"):
        raise PriorError(f"Correlations of group '{group}' need an lkj prior, got '{row.prior}'.")
    return dist.args[0]


def signed_dist(row) -> PriorDist | None:
    """The distribution on the real line whose absolute value has the row's prior with
    ``lb = 0`` and no upper bound (``priors.signed_form``), or None."""
    dist = parse_prior(row.prior)
    if dist is None or row.ub or float(row.lb or "nan") != 0.0:
        return None
    return signed_form(dist)


def signed_prior(row) -> Callable | None:
    """Builder of ``signed_dist(row)`` as a PyMC variable: brms's half-t default,
    half-normal, half-Cauchy, exponential, ...; None for other priors and bounds."""
    signed = signed_dist(row)
    return None if signed is None else DISTRIBUTIONS[signed.name].build(*signed.args)
