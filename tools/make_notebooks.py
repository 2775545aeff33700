# ruff: noqa: E501 - the cells' text is laid out as the notebooks show it
"""Write the seed document's notebooks (notebooks/NN_*.ipynb), outputs empty.

    .venv/bin/python tools/make_notebooks.py

The cells live here so that every notebook follows the same layout; edit them here and
rerun. tests/test_notebooks.py executes each notebook and checks what it shows.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SETUP = """import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import bayesml as bm"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_rats": [
        (
            "md",
            "# Rats: binomial random effects\n\nTumour incidence in 71 groups of rats "
            "(`m` of `n` rats). lme4: `glmer(cbind(m, n - m) ~ 1 + (1 | batch), binomial)`; "
            "brms: `brm(m | trials(n) ~ 1 + (1 | batch), family = binomial)`.",
        ),
        ("code", SETUP + '\n\nrats = bm.datasets.load("rats")\nrats.head()'),
        ("code", 'print(bm.get_prior("m | trials(n) ~ 1 + (1 | batch)", rats, family="binomial"))'),
        (
            "code",
            'fit = bm.brm("m | trials(n) ~ 1 + (1 | batch)", rats, family="binomial", seed=1,\n'
            "             progressbar=False)\nfit",
        ),
        (
            "md",
            "## Shrinkage\n\nEach batch's rate θ_j (posterior mean of the inverse logit of "
            "its intercept) against its raw rate m/n: small batches are pulled furthest "
            "towards the population rate.",
        ),
        (
            "code",
            'theta = 1 / (1 + np.exp(-fit.coef(summary=False)["batch"].sel(coef="Intercept")))\n'
            'est = theta.mean("draw").to_series()\n'
            'raw = (rats["m"] / rats["n"]).set_axis(rats["batch"])\n'
            "fig, ax = plt.subplots(figsize=(5, 5))\n"
            'ax.scatter(raw.loc[est.index], est, s=4 * rats.set_index("batch").loc[est.index, "n"])\n'
            'ax.axline((0, 0), slope=1, color="grey", lw=0.8)\n'
            'ax.set(xlabel="raw rate m/n", ylabel="posterior mean of θ_j", aspect="equal")\n'
            "shrunk = float(np.corrcoef(raw.loc[est.index], est)[0, 1])\n"
            'print(f"correlation of raw and shrunken rates: {shrunk:.2f}")',
        ),
    ],
    "02_alcohol": [
        (
            "md",
            "# Alcohol: normal random effects and the intraclass correlation\n\n"
            "`alcohol ~ 1 + (1 | country)`: how much of the variation in consumption lies "
            "between countries?",
        ),
        ("code", SETUP + '\n\nalcohol = bm.datasets.load("alcohol")\nalcohol.head()'),
        (
            "code",
            'fit = bm.brm("alcohol ~ 1 + (1 | country)", alcohol, seed=1, progressbar=False)\nfit',
        ),
        (
            "md",
            "## The ICC and its posterior\n\nICC = sd(country)² / (sd(country)² + sigma²), "
            "computed draw by draw.",
        ),
        (
            "code",
            'sd = fit.draws("sd_country__Intercept")\nsigma = fit.draws("sigma")\n'
            "icc = sd**2 / (sd**2 + sigma**2)\n"
            'print(f"ICC: {icc.mean():.3f} (95% interval {np.quantile(icc, 0.025):.3f} to '
            '{np.quantile(icc, 0.975):.3f})")\n'
            "fig, ax = plt.subplots(figsize=(5, 3))\nax.hist(icc, bins=50)\n"
            'ax.set(xlabel="ICC", ylabel="draws");',
        ),
    ],
    "03_sleepstudy": [
        (
            "md",
            "# sleepstudy: four random-effect structures\n\nReaction times over ten days of "
            "sleep deprivation. Varying intercepts, varying slopes, both uncorrelated, both "
            "correlated; lme4's REML estimates (lme4 1.1-31) beside the posterior means.",
        ),
        ("code", SETUP + '\n\nsleep = bm.datasets.load("sleepstudy")'),
        (
            "code",
            "formulas = {\n"
            '    "intercepts": "Reaction ~ Days + (1 | Subject)",\n'
            '    "slopes": "Reaction ~ Days + (0 + Days | Subject)",\n'
            '    "uncorrelated": "Reaction ~ Days + (Days || Subject)",\n'
            '    "correlated": "Reaction ~ Days + (Days | Subject)",\n'
            "}\n"
            "fits = {name: bm.brm(f, sleep, seed=1, progressbar=False) for name, f in formulas.items()}\n"
            'fits["correlated"]',
        ),
        (
            "code",
            "# lme4 1.1-31 REML: sd(Intercept), sd(Days), sigma\n"
            "lme4 = {\n"
            '    "intercepts": (37.124, None, 30.991),\n'
            '    "slopes": (None, 7.260, 29.018),\n'
            '    "uncorrelated": (25.051, 5.988, 25.565),\n'
            '    "correlated": (24.741, 5.922, 25.592),\n'
            "}\n"
            "rows = []\n"
            "for name, fit in fits.items():\n"
            "    post = fit.posterior\n"
            "    get = lambda v: float(post[v].mean()) if v in post else None\n"
            '    ours = (get("sd_Subject__Intercept"), get("sd_Subject__Days"), get("sigma"))\n'
            '    for what, o, r in zip(("sd(Intercept)", "sd(Days)", "sigma"), ours, lme4[name]):\n'
            "        if o is not None:\n"
            '            rows.append({"model": name, "parameter": what, "posterior mean": round(o, 2),\n'
            '                         "lme4 REML": r})\n'
            "pd.DataFrame(rows)",
        ),
        ("code", "bm.loo_compare(*fits.values(), names=list(fits))"),
    ],
    "04_classroom": [
        (
            "md",
            "# Classroom: nested grouping\n\nMaths scores of pupils in classes within schools: "
            "`mathscore ~ ses + (1 | schoolid/classid2)`, brms's shorthand for "
            "`(1 | schoolid) + (1 | schoolid:classid2)`.",
        ),
        ("code", SETUP + '\n\nclassroom = bm.datasets.load("classroom")\nclassroom.head()'),
        (
            "code",
            'fit = bm.brm("mathscore ~ ses + (1 | schoolid/classid2)", classroom, seed=1,\n'
            "             progressbar=False)\nfit",
        ),
        ("code", "vc = fit.varcorr()\n{group: v.sd for group, v in vc.items()}"),
    ],
    "05_blp": [
        (
            "md",
            "# British Lexicon Project: crossed random effects\n\nLexical decision times with "
            "participants and words crossed: `rt ~ 1 + (1 | participant) + (1 | spelling)`.",
        ),
        ("code", SETUP + '\n\nblp = bm.datasets.load("blp-short2")\nblp.head()'),
        (
            "code",
            "with warnings.catch_warnings():\n"
            '    warnings.simplefilter("ignore", bm.DataWarning)  # 11 missing rt are dropped\n'
            '    fit = bm.brm("rt ~ 1 + (1 | participant) + (1 | spelling)", blp, seed=1,\n'
            "                 progressbar=False)\nfit",
        ),
        ("code", 'words = fit.ranef()["spelling"]\nwords'),
    ],
    "06_mathachieve": [
        (
            "md",
            "# MathAchieve: group-level predictors and a cross-level interaction\n\n"
            "Pupils' maths achievement with school-level predictors (the proportion of "
            "pupils on an academic track, a minority-intake indicator).",
        ),
        ("code", SETUP + '\n\nmath = bm.datasets.load("mathachieve")\nmath.head()'),
        (
            "code",
            'glp = bm.brm("mathach ~ pracad + (1 | school)", math, seed=1, progressbar=False)\nglp',
        ),
        (
            "code",
            'cross = bm.brm("mathach ~ ses + himinty + ses:himinty + (ses | school)", math,\n'
            "               seed=1, progressbar=False)\ncross",
        ),
        ("code", 'cross.hypothesis(["ses:himinty < 0"])'),
    ],
    "07_bernoulli": [
        (
            "md",
            "# A Bernoulli GLMM\n\nWhether a reaction is faster than the median: "
            "`fast_rt ~ Days + (Days | Subject)`, family bernoulli.",
        ),
        (
            "code",
            SETUP + '\n\nsleep = bm.datasets.load("sleepstudy")\n'
            'sleep["fast_rt"] = sleep["Reaction"] < sleep["Reaction"].median()',
        ),
        (
            "code",
            "# with binary data the sd of the Days slopes mixes slowly (bulk ESS near 400 at\n"
            "# brms's defaults): twice the iterations, and smaller steps (brms's adapt_delta)\n"
            'fit = bm.brm("fast_rt ~ Days + (Days | Subject)", sleep, family="bernoulli", seed=1,\n'
            "             iter=4000, target_accept=0.95, progressbar=False)\nfit",
        ),
        (
            "code",
            'new = pd.DataFrame({"Days": [0, 9], "Subject": ["308", "308"]})\n'
            "fit.fitted(new)  # probabilities of a fast reaction for subject 308",
        ),
        ("code", 'fit.pp_check(type="bars");'),
    ],
    "08_priors": [
        (
            "md",
            "# Priors before fitting\n\nThe prior table brms's `get_prior()` prints, user "
            "priors checked against the model, and draws from the prior alone with their "
            "prior predictive check.",
        ),
        (
            "code",
            SETUP + '\n\nsleep = bm.datasets.load("sleepstudy")\n'
            'f = "Reaction ~ Days + (Days | Subject)"\nbm.get_prior(f, sleep)',
        ),
        (
            "code",
            'p = (bm.prior("normal(10, 5)", class_="b", coef="Days")\n'
            '     + bm.prior("exponential(0.05)", class_="sigma")\n'
            '     + bm.prior("lkj(2)", class_="cor"))\n'
            "print(bm.validate_prior(p, f, sleep))",
        ),
        (
            "code",
            'prior_fit = bm.brm(f, sleep, prior=p, sample_prior="only", seed=1)\n'
            'days = prior_fit.draws("b_Days")\n'
            'print(f"b_Days prior draws: mean {days.mean():.0f}, sd {days.std():.0f} (the prior: normal(10, 5))")',
        ),
        ("code", "prior_fit.pp_check(ndraws=50);"),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(
            cells=[new_markdown_cell(t) if kind == "md" else new_code_cell(t) for kind, t in cells],
            metadata={
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
        )
        nbformat.write(nb, ROOT / "notebooks" / f"{name}.ipynb")
        print(f"notebooks/{name}.ipynb")


if __name__ == "__main__":
    main()
