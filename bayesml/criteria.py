"""Stage 6 — model checking numbers: LOO, WAIC, Bayesian R², hypotheses.

``loo``/``waic``/``loo_compare`` use ArviZ on the pointwise log-likelihood given the varying
effects (what brms's ``log_lik`` returns); ``bayes_R2`` is brms 2.18's residual-based
definition; ``hypothesis`` follows brms's table and its Savage–Dickey ratio for point
hypotheses.
"""

from __future__ import annotations

import ast
import re
import warnings

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from .stats import stat_frame

__all__ = ["bayes_R2", "hypothesis", "loo", "loo_compare", "waic"]


def _with_log_likelihood(fit) -> xr.DataTree:
    from .predict import log_likelihood

    if "log_likelihood" not in fit.idata.children:
        fit.idata["log_likelihood"] = log_likelihood(fit)
    return fit.idata


def loo(fit):
    """PSIS-LOO (``arviz_stats.loo``) with a warning for Pareto k above 0.7."""
    import arviz_stats as azs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = azs.loo(_with_log_likelihood(fit), pointwise=True)
    k = np.asarray(res.pareto_k).ravel()
    bad = int((k > 0.7).sum())
    if bad:
        warnings.warn(
            f"Found {bad} observations with a pareto_k > 0.7 in model '{fit.formula}'. "
            "The PSIS-LOO estimate may be unreliable for them.",
            UserWarning,
            stacklevel=2,
        )
    return res


def waic(fit) -> pd.Series:
    """WAIC from the pointwise log-likelihood: elpd_waic, p_waic, waic and their SEs."""
    ll = _with_log_likelihood(fit)["log_likelihood"].to_dataset()
    x = np.concatenate(
        [
            v.stack(__s__=("chain", "draw"))
            .transpose("__s__", ...)
            .values.reshape(v.sizes["chain"] * v.sizes["draw"], -1)
            for v in ll.data_vars.values()
        ],
        axis=1,
    )
    lppd_i = np.logaddexp.reduce(x, axis=0) - np.log(x.shape[0])
    p_i = x.var(axis=0, ddof=1)
    elpd_i = lppd_i - p_i
    n = len(elpd_i)
    return pd.Series(
        {
            "elpd_waic": elpd_i.sum(),
            "se_elpd_waic": np.sqrt(n * elpd_i.var(ddof=1)),
            "p_waic": p_i.sum(),
            "se_p_waic": np.sqrt(n * p_i.var(ddof=1)),
            "waic": -2 * elpd_i.sum(),
            "se_waic": 2 * np.sqrt(n * elpd_i.var(ddof=1)),
        }
    )


def loo_compare(*fits, names: list[str] | None = None) -> pd.DataFrame:
    """Models ranked best first by LOO (brms's ``loo_compare``): elpd_diff and se_diff."""
    import arviz_stats as azs

    if len(fits) < 2:
        raise ValueError("loo_compare needs at least two fits.")
    names = names or [str(f.formula) for f in fits]
    if len(set(names)) != len(names):
        names = [f"model{i + 1}" for i in range(len(fits))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = azs.compare(
            {n: _with_log_likelihood(f) for n, f in zip(names, fits, strict=True)}, round_to=6
        )
    return table


def bayes_R2(fit, prob: float = 0.95, robust: bool = False) -> pd.DataFrame:  # noqa: N802
    """Bayesian R² (brms 2.18): per draw var(ŷ) / (var(ŷ) + var(y − ŷ)), ŷ = posterior_epred."""
    from .predict import posterior_epred

    yhat = posterior_epred(fit)
    if yhat.ndim != 2:
        raise ValueError("bayes_R2 is defined for families with a scalar expected response.")
    y = np.asarray(fit.design.response.y, dtype=float)
    var_fit = yhat.var(axis=1, ddof=1)
    var_res = (y[None, :] - yhat).var(axis=1, ddof=1)
    r2 = var_fit / (var_fit + var_res)
    return stat_frame(r2[:, None], ["R2"], prob, robust)


_SIDES = re.compile(r"^(.*?)(<=|>=|=|<|>)(.*)$")
_HYPOTHESIS_HELP = "write e.g. 'Days > 0', 'Intercept - 250 = 0' or 'a + b < 2 * c'"


def _parse_hypothesis(h) -> tuple[str, str, str]:
    """(left side, comparison, right side) of a hypothesis; both sides must be arithmetic."""
    if not isinstance(h, str):
        raise ValueError(f"A hypothesis is a string such as 'Days > 0', got {h!r}.")
    m = _SIDES.match(h.replace(" ", ""))
    if not m:
        raise ValueError(f"Cannot read hypothesis '{h}': it has no comparison; {_HYPOTHESIS_HELP}.")
    lhs, op, rhs = m.groups()
    for side in (lhs, rhs):
        if not side:
            raise ValueError(f"Cannot read hypothesis '{h}': a side is empty; {_HYPOTHESIS_HELP}.")
        try:
            # interaction names such as ses:himinty are one parameter (brms reads them so)
            plain = re.sub(r"(?<=[\w.\]]):(?=[A-Za-z_.])", "__", side)
            tree = ast.parse(plain.replace("^", "**"), mode="eval")
        except SyntaxError:
            raise ValueError(
                f"Cannot read hypothesis '{h}': '{side}' is not an arithmetic expression of "
                f"parameters; {_HYPOTHESIS_HELP}."
            ) from None
        if any(isinstance(n, ast.Compare | ast.BoolOp) for n in ast.walk(tree)):
            raise ValueError(
                f"Cannot read hypothesis '{h}': use one comparison (<, >, = ...); "
                f"{_HYPOTHESIS_HELP}."
            )
    return lhs, op, rhs


def _evaluate_side(expr: str, post: xr.Dataset, class_: str) -> np.ndarray:
    """Evaluate an arithmetic expression of parameters on the draws.

    Names are looked up as ``<class>_<name>`` first (``Days`` → ``b_Days``), then as written.
    """
    names = sorted(set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.:\[\]]*", expr)), key=len, reverse=True)
    env: dict[str, np.ndarray] = {}
    code = expr
    for i, nm in enumerate(names):
        key = f"{class_}_{nm}" if class_ and f"{class_}_{nm}" in post else nm
        if key not in post:
            avail = ", ".join(
                v[len(class_) + 1 :] if class_ and v.startswith(class_ + "_") else v
                for v in post.data_vars
                if post[v].ndim == 2
            )
            raise ValueError(
                f"Parameter '{nm}' in hypothesis '{expr.strip()}' not found; available: {avail}."
            )
        token = f"__p{i}"
        code = re.sub(rf"(?<![A-Za-z0-9_.]){re.escape(nm)}(?![A-Za-z0-9_.:\[])", token, code)
        env[token] = post[key].stack(__s__=("chain", "draw")).values
    return eval(code.replace("^", "**"), {"__builtins__": {}}, env)  # noqa: S307 - names only


def hypothesis(fit, hypotheses, class_: str = "b", alpha: float = 0.05) -> pd.DataFrame:
    """brms's ``hypothesis``: Estimate, Est.Error, CI.Lower, CI.Upper, Evid.Ratio, Post.Prob,
    Star per hypothesis (``"Days > 0"``, ``"Intercept - 250 = 0"``, ...).

    One-sided hypotheses give the (alpha, 1 - alpha) interval and Evid.Ratio = P(H) / P(not
    H); point hypotheses the (alpha/2, 1 - alpha/2) interval and, when the fit has prior
    draws (``sample_prior="yes"``), the Savage–Dickey density ratio at 0.
    """
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    post = fit.posterior
    rows = []
    for h in hypotheses:
        lhs, op, rhs = _parse_hypothesis(h)
        x = _evaluate_side(lhs, post, class_) - _evaluate_side(rhs or "0", post, class_)
        x = np.broadcast_to(x, (post.sizes["chain"] * post.sizes["draw"],))
        if op == "=":
            lo, hi = np.quantile(x, [alpha / 2, 1 - alpha / 2])
            er = _savage_dickey(fit, lhs, rhs, class_, x)
            pp = er / (1 + er) if np.isfinite(er) else np.nan
            star = "*" if not lo <= 0 <= hi else ""
        else:
            # brms: the (alpha, 1 - alpha) interval, e.g. 90% for alpha = 0.05
            lo, hi = np.quantile(x, [alpha, 1 - alpha])
            p = float((x > 0).mean()) if op in (">", ">=") else float((x < 0).mean())
            er = p / (1 - p) if p < 1 else np.inf
            pp = p
            star = "*" if p > 1 - alpha else ""
        label = f"({lhs}) {op} 0" if rhs in ("", "0") else f"({lhs})-({rhs}) {op} 0"
        rows.append(
            {
                "Hypothesis": label,
                "Estimate": x.mean(),
                "Est.Error": x.std(ddof=1),
                "CI.Lower": lo,
                "CI.Upper": hi,
                "Evid.Ratio": er,
                "Post.Prob": pp,
                "Star": star,
            }
        )
    return pd.DataFrame(rows)


def _savage_dickey(fit, lhs, rhs, class_, x) -> float:
    """Posterior density at 0 over prior density at 0, from prior_* draws (brms's way)."""
    post = fit.posterior
    prior_vars = [v for v in post.data_vars if v.startswith("prior_")]
    if not prior_vars:
        return np.nan
    # b_X takes the draws of prior_b_X or prior_b; parameters without prior draws are left
    # out, so a hypothesis that uses them has no Savage-Dickey ratio
    mapped = {}
    for v in post.data_vars:
        if v.startswith(f"{class_}_") and not v.startswith("prior_"):
            name = f"prior_{v}" if f"prior_{v}" in post else f"prior_{class_}"
            if name in post:
                mapped[v] = post[name]
    prior = xr.Dataset(mapped)
    try:
        xp = _evaluate_side(lhs, prior, class_) - _evaluate_side(rhs or "0", prior, class_)
    except ValueError:
        return np.nan
    dens_post = stats.gaussian_kde(x)(0.0)[0]
    dens_prior = stats.gaussian_kde(np.asarray(xp))(0.0)[0]
    return float(dens_post / dens_prior) if dens_prior > 0 else np.inf
