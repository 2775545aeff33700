"""The generated model in readable form (the analogue of brms's Stan code).

Rendered from the model itself: the parameters block lists the PyMC model's free variables
with the brms names the parameter registry gives their entries, the priors come from the prior
rows those entries resolve to, and the predictors from the design's terms. A model built
differently prints differently; nothing here restates the model by hand.
"""

from __future__ import annotations

from ._rformat import r_num
from .effects import centring_pattern, has_signed_scales, noncentred_signed
from .priors import PriorDist, parse_prior
from .rvs import lkj_eta, signed_dist
from .terms.base import dpar_suffix, prior_dpar

__all__ = ["describe"]


def _prior_text(row) -> str:
    dist: PriorDist | None = parse_prior(row.prior)
    text = "flat" if dist is None else str(dist)
    bounds = []
    if row.lb:
        bounds.append(f"lower={row.lb}")
    if row.ub:
        bounds.append(f"upper={row.ub}")
    return text + (f"  <{', '.join(bounds)}>" if bounds else "")


def _shape(model, name: str) -> str:
    shape = tuple(int(n) for n in model[name].shape.eval()) if name in model.named_vars else ()
    return f"[{', '.join(map(str, shape))}]" if shape else ""


def _data_lines(bm) -> list[str]:
    d, fam = bm.design, bm.family
    out = [
        "data {",
        f"  N = {d.nobs};  // observations",
        f"  Y[N];  // response '{d.formula.response}'",
    ]
    for dpar, pred in d.predictors.items():
        fx, sfx = pred.fixed, dpar_suffix(dpar)
        if fx.coefs:
            out.append(
                f"  Xc{sfx}[N, {len(fx.coefs)}];  // population-level design"
                f"{'' if dpar == 'mu' else ' of ' + dpar}, columns: {', '.join(fx.coefs)}"
            )
            if fx.intercept:
                means = ", ".join(f"{m:.6g}" for m in fx.means)
                out.append(
                    f"  means_X{sfx} = [{means}];  // Xc{sfx} = X{sfx} - means_X{sfx} "
                    "(centred for the Intercept)"
                )
        for m in pred.monotonic:
            for var, steps in zip(m.simplex_vars(), m.steps, strict=True):
                out.append(f"  Xmo{var[4:]}[N] in 0..{steps};  // {m.term.label}")
        if pred.offset is not None:
            offsets = [p for p in d.formula.predictors if p.dpar == dpar][0].offsets
            out.append(f"  offset{sfx}[N];  // {' + '.join(f'offset({o})' for o in offsets)}")
    for name, what in (
        ("trials", "trials() on the left-hand side"),
        ("se", "se() on the left-hand side"),
        ("weights", "weights() on the left-hand side"),
        ("rate", "rate() on the left-hand side"),
        ("cens", "cens(): -1 left, 0 none, 1 right, 2 interval"),
        ("y2", "cens(): upper ends of interval-censored rows"),
        ("lb", "trunc(): lower bounds"),
        ("ub", "trunc(): upper bounds"),
    ):
        if name in d.additions:
            out.append(f"  {name}[N];  // {what}")
    cs = d.predictors["mu"].terms.get("category") if "mu" in d.predictors else None
    if cs is not None:
        out.append(
            f"  Xcs[N, {len(cs.coefs)}];  // category-specific design: {', '.join(cs.coefs)}"
        )
    if fam.ordinal and d.response is not None:
        cats = ", ".join(d.response.categories)
        out.append(f"  nthres = {d.response.n_thresholds};  // categories: {cats}")
    for blk in d.blocks:
        out.append(f"  J_{blk.id}[N] in 1..{blk.n_levels};  // levels of '{blk.group}'")
        if not _intercepts_only(bm, blk):
            out.append(
                f"  Z_{blk.id}[N, {len(blk.coefs)}];  // group-level design: {', '.join(blk.coefs)}"
            )
    out.append("}")
    return out


def _parameter_lines(bm, signed: set[int]) -> list[str]:
    d, model = bm.design, bm.model
    shifts = bm.graph.get("mean_shift", {})
    integrated = set(bm.integrated)
    free = {v.name for v in model.free_RVs} | {v.name for v in model.deterministics}
    out = ["parameters {"]
    for dpar, pred in d.predictors.items():
        fx = pred.fixed
        shifted = dpar in shifts
        at_means = ", sampled shifted (transformed parameters)" if shifted else ""
        if fx.coefs:
            labels = ", ".join(p.name for p in bm.registry.of_var(fx.b_var))
            var = f"{fx.b_var}_shifted" if shifted else fx.b_var
            out.append(f"  {var}[{len(fx.coefs)}];  // {labels}{at_means}")
        if pred.monotonic:
            var = f"bsp{dpar_suffix(dpar)}"
            out.append(f"  {var}{_shape(model, var)};  // monotonic slopes")
            for m in pred.monotonic:
                for v in m.simplex_vars():
                    out.append(f"  simplex {v}{_shape(model, v)};  // {m.term.label}")
        if dpar == "mu" and bm.family.ordinal:
            kind = "ordered" if bm.family.ordered_thresholds else "vector"
            out.append(f"  {kind} Intercept[nthres];  // thresholds of the centred predictors")
            cs = pred.terms.get("category")
            if cs is not None:
                out.append(f"  bcs[{len(cs.coefs)}, nthres];  // category-specific effects")
        elif fx.sampled_intercept:
            var = f"{fx.intercept_var}_shifted" if shifted else fx.intercept_var
            out.append(f"  {var};  // intercept of the centred predictors{at_means}")
    out += _smooth_parameter_lines(bm)
    for blk in d.blocks:
        k, m = blk.id, len(blk.coefs)
        if k in signed:
            note = f"signed group-level sds of '{blk.group}': sd_{k} = |sd_{k}_signed|"
            out.append(f"  sd_{k}_signed[{m}];  // {note}")
        else:
            out.append(f"  sd_{k}[{m}] >= 0;  // group-level sds of '{blk.group}'")
        if k not in integrated:
            out.append(f"  z_{k}[{m}, {blk.n_levels}];  // standardised group-level effects")
        if blk.has_cor:
            out.append(f"  L_{k}[{m}, {m}];  // Cholesky factor of the correlation matrix")
    for dp in bm.family.estimated_dpars(d.formula.additions, d.not_estimated):
        if dp.name in free:
            out.append(f"  {dp.name}{'' if dp.lb is None else ' >= ' + r_num(dp.lb)};")
    out.append("}")
    return out


def _intercepts_only(bm, blk) -> bool:
    """A non-centred block of intercepts only: the model adds ``r[J]`` without ``Z``."""
    return blk.id not in bm.integrated and blk.intercepts_only


def _predictor_line(bm, dpar: str, pred) -> str:
    fx, sfx = pred.fixed, dpar_suffix(dpar)
    terms = []
    if fx.sampled_intercept:
        terms.append(fx.intercept_var)
    if fx.coefs:
        terms.append(f"Xc{sfx} * {fx.b_var}")
    for j, m in enumerate(pred.monotonic, start=1):
        mo = " .* ".join(f"mo({v}, Xmo{v[4:]})" for v in m.simplex_vars())
        cov = f" .* Csp{sfx}_{j}" if m.covariate is not None else ""
        terms.append(f"bsp{sfx}[{j}] * {mo}{cov}")
    for b in bm.design.blocks:
        if dpar in b.dpars and b.id not in bm.integrated:
            cols = ", ".join(str(j + 1) for j in b.columns_of(dpar))
            if _intercepts_only(bm, b):
                terms.append(f"r_{b.id}[J_{b.id}, {{{cols}}}]")
            else:
                terms.append(f"rows_dot(Z_{b.id}[, {{{cols}}}], r_{b.id}[J_{b.id}, {{{cols}}}])")
    terms += _smooth_terms(bm, dpar, pred)
    if pred.offset is not None:
        terms.append(f"offset{sfx}")
    lp = " + ".join(terms) or "0"
    if dpar == "mu":
        return f"  eta = {lp};"
    link = bm.family.dpar(dpar).link
    if link == "identity":
        return f"  {dpar} = {lp};"
    return f"  {dpar} = inv_{link}({lp});  // {dpar}'s link: {link}"


def _integrated(bm, dpar: str) -> bool:
    """Whether this predictor's smooth and GP coefficients are integrated out."""
    return bm.group_effects == "latent" and dpar == "mu"


def _smooth_parts(bm):
    """(dpar, kind, design, part) of every smooth and GP part of the model."""
    for dpar, pred in bm.design.predictors.items():
        for kind in ("smooth", "gp"):
            design = pred.terms.get(kind)
            for part in getattr(design, "parts", ()):
                yield dpar, kind, design, part


def _smooth_parameter_lines(bm) -> list[str]:
    out = []
    for dpar, pred in bm.design.predictors.items():
        sm = pred.terms.get("smooth")
        if sm is not None and sm.fixed_coefs:
            out.append(f"  bs{dpar_suffix(dpar)}[{len(sm.fixed_coefs)}];  // unpenalised "
                       f"smooth coefficients: {', '.join(sm.fixed_coefs)}")  # fmt: skip
    for dpar, kind, design, part in _smooth_parts(bm):
        hidden = "  // integrated out" if _integrated(bm, dpar) else ""
        if kind == "smooth":
            for j, Z in enumerate(part.Zs, start=1):
                name = design.block_name(part, j)
                out.append(f"  sds_{name} >= 0;  // sd of {part.term.label}'s block {j}")
                out.append(f"  zs_{name}[{Z.shape[1]}];{hidden or '  // standardised'}")
        else:
            name = design.name(part)
            size = len(part.basis.index) if part.phi is not None else len(part.basis.x_fit)
            dims = len(part.basis.lscale_coefs)
            out.append(f"  sdgp_{name} >= 0;  // sd of {part.term.label}")
            out.append(f"  lscale_{name}[{dims}] >= 0;  // length scale")
            out.append(f"  zgp_{name}[{size}];{hidden or '  // standardised'}")
    return out


def _smooth_terms(bm, dpar: str, pred) -> list[str]:
    sfx, terms = dpar_suffix(dpar), []
    sm = pred.terms.get("smooth")
    if sm is not None and sm.fixed_coefs:
        terms.append(f"Xs{sfx} * bs{sfx}")
    if _integrated(bm, dpar):
        return terms
    for d, kind, design, part in _smooth_parts(bm):
        if d != dpar:
            continue
        if kind == "smooth":
            for j in range(1, len(part.Zs) + 1):
                name = design.block_name(part, j)
                terms.append(f"Zs_{name} * (sds_{name} * zs_{name})")
        else:
            name = design.name(part)
            gp = (f"Xgp_{name} * (sqrt(spd_cov_exp_quad(slambda_{name}, sdgp_{name}, "
                  f"lscale_{name})) .* zgp_{name})" if part.phi is not None
                  else f"cholesky(cov_exp_quad(Xgp_{name}, sdgp_{name}, lscale_{name}) "
                  f"+ 1e-12 * I) * zgp_{name}")  # fmt: skip
            terms.append(f"Cgp_{name} .* ({gp})[Jgp_{name}]")
    return terms


def _latent_lines(bm) -> list[str]:
    return [
        "  // smooth and GP coefficients integrated out: with B = [Zs_k * sds_k, Z_gp * "
        "chol(K_gp) or Xgp * sqrt(spd)]",
        "  Y ~ multi_normal(eta, sigma^2 * I + B * B');  // by Woodbury in z's coordinates",
        "  // zs_k, zgp_k: drawn after sampling from their exact conditional (Matheron's rule)",
    ]


def _marginal_lines(bm, resid: str) -> list[str]:
    covs = []
    for b in bm.design.blocks:
        if b.id not in bm.integrated:
            continue
        mid = f" * L_{b.id} * L_{b.id}' * " if b.has_cor else " * "
        covs.append(f"Sigma_{b.id} = diag(sd_{b.id}){mid}diag(sd_{b.id})")
    return [
        f"  // varying effects integrated out: {'; '.join(covs)} for every level",
        f"  Y ~ multi_normal(eta, diag({resid}) + Z * blockdiag(Sigma) * Z');"
        "  // by Woodbury, over independent components",
        "  // r_k: drawn after sampling from N(M^-1 Z' V^-1 (Y - eta), M^-1),",
        "  //      M = blockdiag(Sigma)^-1 + Z' V^-1 Z, V = the residual variances",
    ]


def _likelihood_lines(bm) -> list[str]:
    d, fam = bm.design, bm.family
    marginal = bm.group_effects == "marginal"
    estimated = [dp.name for dp in fam.estimated_dpars(d.formula.additions, d.not_estimated)]
    has_sigma = "sigma" in estimated or "sigma" in d.dpars
    if bm.group_effects == "latent":
        return _latent_lines(bm)
    if marginal:
        if "se" in d.additions:
            resid = "sigma^2 + se^2" if has_sigma else "se^2"
        else:
            resid = "sigma^2"
        return _marginal_lines(bm, resid)
    args = ["inv_link(eta)" if fam.link_name != "identity" else "eta"]
    pre = []
    if fam.ordinal:
        args = ["eta", "Intercept"]
        if "category" in d.predictors["mu"].terms:
            pre.append("  mucs = Xcs * bcs;  // category-specific effects, subtracted below")
            args = ["eta", "Intercept - mucs[n]"]
    if fam.category_dpar is not None:
        args = [f"[0, {', '.join(d.dpars)}]"]
    args += [dp.name for dp in fam.estimated_dpars(d.formula.additions, d.not_estimated)]
    args += [p for p in d.dpars if fam.category_dpar is None]
    if "trials" in d.additions:
        args.insert(0, "trials")
    if "se" in d.additions:
        args.append("se")
    name, written = fam.name, f"{fam.name}({', '.join(args)})"
    canonical = fam.canonical_likelihood(d.response, d.additions)
    if canonical is not None:  # Stan's density on the linear predictor (densities.py)
        name, args[args.index("inv_link(eta)")] = canonical.kind, "eta"
    lik = f"Y ~ {name}({', '.join(args)})"
    if "weights" in d.additions:
        # brms multiplies each observation's log-likelihood by its weight
        lik = f"target += weights * {name}_lpdf(Y | {', '.join(args)})"
    if "lb" in d.additions:
        lik += " T[lb, ub]"
    line = f"  {lik};"
    if canonical is not None:
        line += f"  // = {written}, {fam.link_name} link"
        if canonical.kind != "bernoulli_logit":
            line += "; terms of Y alone computed once"
    elif fam.code_note:
        line += f"  // {fam.code_note.format(link=fam.link_name)}"
    elif fam.link_name != "identity":
        line += f"  // inv_link: inverse of the {fam.link_name} link"
    out = [*pre, line]
    if "cens" in d.additions:
        out.append("  // censored rows: log(1 - F(Y)) right, log F(Y) left, "
                   "log(F(y2) - F(Y)) interval")  # fmt: skip
    return out


def _prior_lines(bm, signed: set[int]) -> list[str]:
    d, pr = bm.design, bm.priors
    out = []
    for p in bm.registry:
        if p.class_ == "b" and p.var.startswith("b"):
            line = f"  {p.var}[{p.coef}] ~ {_prior_text(pr.resolve('b', p.coef, '', p.dpar))};"
            if line not in out:  # category-specific effects: one line per column
                out.append(line)
    for p in bm.registry:
        if p.class_ == "Intercept" and p.section == "" and p.var:
            out.append(f"  {p.var}{'[' + p.coef + ']' if p.coef else ''} ~ "
                       f"{_prior_text(pr.resolve('Intercept', p.coef, '', p.dpar))};")  # fmt: skip
        if p.class_ == "simo" and p.index[0][1] == 0:  # a vector with a prior of its own
            out.append(f"  {p.var} ~ {_prior_text(pr.resolve(p.class_, p.coef, '', p.dpar))};")
    for blk in d.blocks:
        k = blk.id
        for c, pc, dp in zip(blk.coefs, blk.prior_coefs, blk.dpars, strict=True):
            row = pr.resolve("sd", pc, blk.group, prior_dpar(dp))
            if k in signed:
                signed_sd = f"sd_{k}_signed[{c}]"
                out.append(
                    f"  {signed_sd} ~ {signed_dist(row)};"
                    f"  // so sd_{k}[{c}] = |{signed_sd}| ~ {_prior_text(row)}"
                )
            else:
                out.append(f"  sd_{k}[{c}] ~ {_prior_text(row)};")
        if k not in bm.integrated:
            out.append(f"  to_vector(z_{k}) ~ std_normal();")
        if blk.has_cor:
            out.append(f"  L_{k} ~ lkj_corr_cholesky({lkj_eta(pr, blk.group):g});")
            if k in signed:
                out.append(
                    f"  // sampled as L_{k} = diag(sign(sd_{k}_signed)) * L_{k}_signed,"
                    " which has the same prior"
                )
    for dpar, kind, design, part in _smooth_parts(bm):
        dp = prior_dpar(dpar)
        if kind == "smooth":
            for j in range(1, len(part.Zs) + 1):
                name = design.block_name(part, j)
                row = pr.resolve("sds", part.term.label, dpar=dp)
                out.append(f"  sds_{name} ~ {_prior_text(row)};")
                if not _integrated(bm, dpar):
                    out.append(f"  zs_{name} ~ std_normal();")
            continue
        name = design.name(part)
        out.append(f"  sdgp_{name} ~ {_prior_text(pr.resolve('sdgp', part.basis.label, dpar=dp))};")
        for coef in part.basis.lscale_coefs:
            out.append(f"  lscale_{name} ~ {_prior_text(pr.resolve('lscale', coef, dpar=dp))};")
        if not _integrated(bm, dpar):
            out.append(f"  zgp_{name} ~ std_normal();")
    for dp in bm.family.estimated_dpars(d.formula.additions, d.not_estimated):
        out.append(f"  {dp.name} ~ {_prior_text(pr.resolve(dp.name))};")
    return out


def _generated_lines(bm) -> list[str]:
    out = []
    uncentred = [p for p in bm.registry if p.class_ == "Intercept" and p.section == "population"]
    for dpar, pred in bm.design.predictors.items():
        fx, sfx = pred.fixed, dpar_suffix(dpar)
        if not fx.intercept:
            continue
        name = next((p.var for p in uncentred if p.dpar == prior_dpar(dpar)), "b_Intercept")
        icpt = fx.intercept_var
        if dpar == "mu" and bm.family.ordinal:
            out.append(
                "  b_Intercept = Intercept + dot(means_X, b);  // thresholds, uncentred"
                if fx.coefs
                else "  b_Intercept = Intercept;"
            )
        elif fx.coefs:
            out.append(f"  {name} = {icpt} - dot(means_X{sfx}, {fx.b_var});")
        else:
            out.append(f"  {name} = {icpt};")
    return ["generated quantities {", *out, "}"] if out else []


def _centred_root_lines(blk, size: str) -> list[str]:
    """A correlated block's effects through the centred square root (effects._centred_root)."""
    k = blk.id
    P = centring_pattern(blk)
    centred = ", ".join(
        f"E_{k}[{blk.coefs[i]}, {blk.coefs[j]}] = mean(Z_{k}[, {blk.coefs[j]}]) = "
        f"{blk.Z[:, j].mean():.6g}"
        for i, j in zip(*P.nonzero(), strict=True)
    )
    return [
        f"  // the same r_{k} ~ N(0, Sigma_{k}), Sigma_{k} = diag(sd_{k}) * L_{k} * L_{k}' * "
        f"diag(sd_{k}), through the square root of the design centred on its column means:",
        f"  // A_{k} = I + E_{k}, {centred}, other entries 0",
        f"  C_{k} = cholesky_decompose(A_{k} * Sigma_{k} * A_{k}');",
        f"  r_{k} = ((I - E_{k}) * C_{k} * z_{k})';  // {size}; inverse(A_{k}) = I - E_{k}",
    ]


def _mean_shift_lines(bm) -> list[str]:
    """The population-level effects of predictors sampled at their varying effects' means
    (bayesml.mean_shift)."""
    out = []
    blocks = {b.id: b for b in bm.design.blocks}

    def means(pairs):
        return " - ".join(f"mean(r_{k}[, {blocks[k].coefs[j]}])" for k, j in pairs)

    for dpar, shift in bm.graph.get("mean_shift", {}).items():
        fx = bm.design.predictors[dpar].fixed
        out.append(
            "  // population-level effects sampled shifted by their varying effects' means"
            " (the same model)"
        )
        for c, name in enumerate(fx.coefs):
            pairs = shift.slopes.get(c)
            rest = f" - {means(pairs)}" if pairs else ""
            out.append(f"  {fx.b_var}[{name}] = {fx.b_var}_shifted[{name}]{rest};")
        if fx.sampled_intercept:
            parts = [f"{fx.intercept_var}_shifted"]
            if shift.intercept:
                parts.append(means(shift.intercept))
            if shift.slopes:
                sfx = dpar_suffix(dpar)
                parts.append(f"dot(means_X{sfx}, {fx.b_var}_shifted - {fx.b_var})")
            out.append(f"  {fx.intercept_var} = {' - '.join(parts)};")
    return out


def describe(bm) -> str:
    """The readable model of a ``BrmsModel``."""
    d, fam = bm.design, bm.family
    noncentred = [b for b in d.blocks if b.id not in bm.integrated]
    signed = {b.id for b in d.blocks if b.id in bm.integrated and has_signed_scales(b, bm.priors)}
    if bm.group_effects != "given":
        signed |= {b.id for b in noncentred if noncentred_signed(b, bm.priors)}
    links = fam.links_line(d.dpars)
    out = [
        f"// bayesml model for: {d.formula}",
        f"// family: {fam.name}({fam.link_name}); links: {links}; "
        f"varying effects: {bm.group_effects}",
        *_data_lines(bm),
        *_parameter_lines(bm, signed),
    ]
    if noncentred:
        out.append("transformed parameters {")
        for blk in noncentred:
            k, size = blk.id, f"[{blk.n_levels}, {len(blk.coefs)}]"
            if blk.has_cor and centring_pattern(blk) is not None:
                out += _centred_root_lines(blk, size)
            elif blk.has_cor:
                out.append(f"  r_{k} = (diag(sd_{k}) * L_{k} * z_{k})';  // {size}")
            else:
                out.append(f"  r_{k} = (diag(sd_{k}) * z_{k})';  // {size}")
        out += _mean_shift_lines(bm)
        out.append("}")
    out.append("model {")
    for dpar, pred in d.predictors.items():
        out.append(_predictor_line(bm, dpar, pred))
    out += _likelihood_lines(bm)
    out += _prior_lines(bm, signed)
    out.append("}")
    out += _generated_lines(bm)
    return "\n".join(out)
