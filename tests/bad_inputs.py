"""A catalogue of bad inputs a new user makes, each with the error bayesml must give.

``tests/test_bad_inputs.py`` checks every case; ``python -m tools.bad_input_table`` renders the
table in docs/bad-inputs.md from the same list (with the messages as they are today), so the
documentation cannot drift from the behaviour.

Each case names what the user did, the call, the exception type and a regular expression the
message must match: the part at fault (column, term, row, prior, argument) is in it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import bayesml as bm


@dataclass
class Context:
    """What the cases act on: sleepstudy, a small fitted model, a scratch folder."""

    sleep: pd.DataFrame
    tmp: Path
    _fit: object = field(default=None, repr=False)

    @property
    def fit(self):
        if self._fit is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._fit = bm.brm(
                    "Reaction ~ Days + (Days | Subject)",
                    self.sleep,
                    chains=2,
                    iter=300,
                    seed=1,
                    progressbar=False,
                )
        return self._fit

    def with_column(self, **cols) -> pd.DataFrame:
        return self.sleep.assign(**cols)


@dataclass(frozen=True)
class Case:
    area: str
    what: str  # what the user did
    call: Callable[[Context], object]
    error: type[BaseException]
    message: str  # regular expression the message must match (re.search)
    needs_fit: bool = False


def _mm(formula, data, **kw):
    return bm.make_model(formula, data, **kw)


def _brm(formula, data, **kw):
    return bm.brm(formula, data, chains=1, iter=100, progressbar=False, **kw)


def _user_folder(c: Context) -> Path:
    folder = c.tmp / "results"
    folder.mkdir(exist_ok=True)
    (folder / "notes.txt").write_text("mine")
    return folder


def _saved(c: Context) -> Path:
    path = c.tmp / "saved.zarr"
    if not path.exists():
        c.fit.save(path)
    return path


S = "Reaction ~ Days + (Days | Subject)"
NEW = pd.DataFrame({"Days": [1, 2], "Subject": ["308", "999"]})

CASES: list[Case] = [
    # -- formulas
    Case(
        "formula",
        "empty formula",
        lambda c: _mm("", c.sleep),
        bm.FormulaError,
        r"^The formula is empty\.",
    ),
    Case(
        "formula",
        "no '~'",
        lambda c: _mm("Reaction Days", c.sleep),
        bm.FormulaError,
        r"exactly one '~'",
    ),
    Case(
        "formula",
        "two '~'",
        lambda c: _mm("Reaction ~ Days ~ x", c.sleep),
        bm.FormulaError,
        r"exactly one '~'",
    ),
    Case(
        "formula",
        "unclosed parenthesis",
        lambda c: _mm("Reaction ~ (Days | Subject", c.sleep),
        bm.FormulaError,
        r"Unclosed parenthesis",
    ),
    Case(
        "formula",
        "'|' outside parentheses",
        lambda c: _mm("Reaction ~ Days | Subject", c.sleep),
        bm.FormulaError,
        r"'\|' must sit inside parentheses",
    ),
    Case(
        "formula",
        "no grouping factor",
        lambda c: _mm("Reaction ~ (1 | )", c.sleep),
        bm.FormulaError,
        r"no grouping factor after '\|'",
    ),
    Case(
        "formula",
        "nothing before '|'",
        lambda c: _mm("Reaction ~ ( | Subject)", c.sleep),
        bm.FormulaError,
        r"no effects before '\|'",
    ),
    Case(
        "formula",
        "'y ~ .'",
        lambda c: _mm("Reaction ~ .", c.sleep),
        bm.FormulaError,
        r"'\.' \(every other column\) is not supported",
    ),
    Case(
        "formula",
        "unknown addition term",
        lambda c: _mm("Reaction | foo(Days) ~ 1", c.sleep),
        bm.FormulaError,
        r"Unknown addition term 'foo\(Days\)'",
    ),
    Case(
        "formula",
        "duplicated group-level term",
        lambda c: _mm("Reaction ~ (1 | Subject) + (1 | Subject)", c.sleep),
        bm.FormulaError,
        r"Duplicated group-level term for group 'Subject'",
    ),
    Case(
        "formula",
        "unknown function",
        lambda c: _mm("Reaction ~ foo(Days)", c.sleep),
        bm.FormulaError,
        r"Cannot evaluate population-level term 'foo\(Days\)'",
    ),
    Case(
        "formula",
        "formula not a string",
        lambda c: _mm(42, c.sleep),
        bm.FormulaError,
        r"A formula must be a string, got int",
    ),
    Case(
        "formula",
        "a column named Intercept with '0 + Intercept'",
        lambda c: _mm("Reaction ~ 0 + Intercept + Days", c.with_column(Intercept=1.0)),
        bm.FormulaError,
        r"column named 'Intercept'.*rename the column",
    ),
    Case(
        "formula",
        "a formula for a parameter the family lacks",
        lambda c: _mm(bm.bf("Reaction ~ Days", shape="~ Days"), c.sleep),
        bm.FormulaError,
        r"Family 'gaussian' has no parameter 'shape'; its parameters: sigma\. "
        r"\(formula 'shape ~ Days'\)",
    ),
    Case(
        "formula",
        "a response on a parameter's formula",
        lambda c: bm.bf("Reaction ~ Days", sigma="Reaction ~ Days"),
        bm.FormulaError,
        r"The formula of 'sigma' has a response \('Reaction'\); .* write sigma='~ \.\.\.'",
    ),
    Case(
        "formula",
        "a second formula for the response",
        lambda c: bm.bf("Reaction ~ Days", "Reaction ~ Subject"),
        bm.FormulaError,
        r"'Reaction' is not a distributional parameter",
    ),
    Case(
        "formula",
        "one correlation ID on two grouping factors",
        lambda c: bm.bf("Reaction ~ Days + (1 |p| Subject)", "sigma ~ (1 |p| Days)"),
        bm.FormulaError,
        r"ID 'p' is used with grouping factors 'Subject' \(\(1 \|p\| Subject\)\) and 'Days'",
    ),
    Case(
        "formula",
        "a varying mo() effect without the population-level one",
        lambda c: _mm("Reaction ~ Days + (mo(Days) | Subject)", c.sleep),
        bm.FormulaError,
        r"\(mo\(Days\) \| Subject\) has mo\(Days\), which the population-level part",
    ),
    # -- data
    Case(
        "data",
        "mo() on a column of fractions",
        lambda c: _mm("Reaction ~ mo(Reaction)", c.sleep),
        bm.DataError,
        r"mo\(\) needs whole numbers or an ordered categorical; column 'Reaction' \(in "
        r"mo\(Reaction\)\) has 179 value\(s\) that are not whole \(rows 1, 2, 3, \.\.\.",
    ),
    Case(
        "data",
        "mo() on an unordered categorical",
        lambda c: _mm("Reaction ~ mo(s)", c.with_column(s=pd.Categorical(c.sleep.Subject))),
        bm.DataError,
        r"column 's' \(in mo\(s\)\) is an unordered categorical",
    ),
    Case(
        "data",
        "data not a DataFrame",
        lambda c: _mm("Reaction ~ Days", [1, 2]),
        TypeError,
        r"data must be a pandas, polars or pyarrow table, got list",
    ),
    Case(
        "data",
        "missing column",
        lambda c: _mm("Reaction ~ days", c.sleep),
        KeyError,
        r"Column 'days' \(used in formula term 'days'\) is not in the data\. Available "
        r"columns: Reaction, Days, Subject",
    ),
    Case(
        "data",
        "missing grouping column",
        lambda c: _mm("Reaction ~ (1 | subj)", c.sleep),
        KeyError,
        r"Column 'subj' \(used in formula term '\(1 \| subj\)'\)",
    ),
    Case(
        "data",
        "duplicate column names",
        lambda c: _mm("Reaction ~ Days", pd.concat([c.sleep, c.sleep[["Days"]]], axis=1)),
        ValueError,
        r"The data has 2 columns named 'Days'",
    ),
    Case(
        "data",
        "datetime predictor",
        lambda c: _mm(
            "Reaction ~ when",
            c.with_column(when=pd.Timestamp("2020-01-01") + pd.to_timedelta(c.sleep.Days, "D")),
        ),
        TypeError,
        r"Column 'when' .* holds dates or times",
    ),
    Case(
        "data",
        "column mixing numbers and text",
        lambda c: _mm("Reaction ~ mix", c.with_column(mix=[1, "a"] * 90)),
        TypeError,
        r"Column 'mix' .* mixes value types: numbers in row 1 \(1\), text in row 2 \('a'\)",
    ),
    Case(
        "data",
        "infinite predictor",
        lambda c: _mm(
            "Reaction ~ x",
            c.with_column(x=np.where(c.sleep.index == 3, np.inf, 1.0 * c.sleep.Days)),
        ),
        bm.DataError,
        r"population-level term 'x' is Inf in 1 of 180 rows \(row 4\)",
    ),
    Case(
        "data",
        "infinite response",
        lambda c: _mm(
            "Reaction ~ Days",
            c.with_column(Reaction=np.where(c.sleep.index == 5, np.inf, c.sleep.Reaction)),
        ),
        bm.DataError,
        r"The response 'Reaction' is Inf in 1 of 180 rows \(row 6\)",
    ),
    Case(
        "data",
        "log of zeros",
        lambda c: _mm("Reaction ~ log(Days)", c.sleep),
        bm.DataError,
        r"'log\(Days\)' is -Inf in 18 of 180 rows \(rows 1, 11, 21, \.\.\.\)",
    ),
    Case(
        "data",
        "constant predictor",
        lambda c: _mm("Reaction ~ k", c.with_column(k=1.0)),
        bm.DataError,
        r"effect 'k' is not identified: its column is constant",
    ),
    Case(
        "data",
        "constant predictor beside a group term",
        lambda c: _mm("Reaction ~ k + (1 | Subject)", c.with_column(k=2.0)),
        bm.DataError,
        r"effect 'k' is not identified",
    ),
    Case(
        "data",
        "collinear predictors",
        lambda c: _mm("Reaction ~ Days + d2", c.with_column(d2=2 * c.sleep.Days)),
        bm.DataError,
        r"'d2' = 2\*Days \(after centring\) in every row \(collinear",
    ),
    Case(
        "data",
        "one row",
        lambda c: _mm("Reaction ~ Days", c.sleep.iloc[:1]),
        bm.DataError,
        r"effect 'Days' is not identified: its column is constant",
    ),
    Case(
        "data",
        "every row has a missing value",
        lambda c: _mm("Reaction ~ x", c.with_column(x=np.nan)),
        ValueError,
        r"No rows left after excluding rows with missing values",
    ),
    Case(
        "data",
        "negative weights",
        lambda c: _mm(
            "Reaction | weights(w) ~ Days", c.with_column(w=np.where(c.sleep.index == 7, -1.0, 1.0))
        ),
        bm.DataError,
        r"weights\(w\) term has 1 negative weight\(s\) \(row 8, e\.g\. -1\)",
    ),
    Case(
        "data",
        "all weights zero",
        lambda c: _mm("Reaction | weights(w) ~ Days", c.with_column(w=0.0)),
        bm.DataError,
        r"Every weight in weights\(w\) is 0",
    ),
    # -- responses and families
    Case(
        "family",
        "unknown family",
        lambda c: _mm("Reaction ~ Days", c.sleep, family="gausian"),
        ValueError,
        r"Unknown family 'gausian'; known families: gaussian, student",
    ),
    Case(
        "family",
        "link the family lacks",
        lambda c: _mm("Reaction ~ Days", c.sleep, family=bm.family("poisson", "logit")),
        ValueError,
        r"Link 'logit' is not available for family 'poisson'; allowed: log",
    ),
    Case(
        "family",
        "negative counts",
        lambda c: _mm("y ~ Days", c.with_column(y=c.sleep.Days - 3), family="poisson"),
        bm.ResponseError,
        r"non-negative integer counts, but 'y' has 54 value\(s\) that are "
        r"not \(e\.g\. -3 in row 1\)",
    ),
    Case(
        "family",
        "three-level bernoulli response",
        lambda c: _mm(
            "g ~ Days", c.with_column(g=np.tile(["a", "b", "c"], 60)), family="bernoulli"
        ),
        bm.ResponseError,
        r"needs a binary response.*'g' has 3 levels \(a, b, c\)",
    ),
    Case(
        "family",
        "binomial without trials",
        lambda c: _mm("y ~ Days", c.with_column(y=1), family="binomial"),
        bm.ResponseError,
        r"needs the number of trials: write 'y \| trials\(n\) ~ \.\.\.'",
    ),
    Case(
        "family",
        "more successes than trials",
        lambda c: _mm("y | trials(3) ~ Days", c.with_column(y=c.sleep.Days), family="binomial"),
        bm.ResponseError,
        r"successes 'y' exceed trials in 108 row\(s\) \(e\.g\. row 5: 4 "
        r"successes of 3 trials\)",
    ),
    Case(
        "family",
        "Beta response outside (0, 1)",
        lambda c: _mm("Reaction ~ Days", c.sleep, family="Beta"),
        bm.ResponseError,
        r"strictly between 0 and 1, but 'Reaction' has 180 value\(s\) outside",
    ),
    Case(
        "family",
        "Gamma response with zeros",
        lambda c: _mm("Days ~ 1", c.sleep, family="Gamma"),
        bm.ResponseError,
        r"needs a response > 0, but 'Days' has 18 value\(s\) <= 0 \(e\.g\. 0 in row 1\)",
    ),
    Case(
        "family",
        "cumulative with an unordered categorical",
        lambda c: _mm(
            "y ~ Days",
            c.with_column(y=pd.Categorical(np.tile(["a", "b", "c"], 60))),
            family="cumulative",
        ),
        bm.ResponseError,
        r"'y' is an unordered categorical",
    ),
    Case(
        "family",
        "addition term the family lacks",
        lambda c: _mm("Reaction | trials(5) ~ Days", c.sleep),
        bm.ResponseError,
        r"Addition term trials\(\) cannot be used with family 'gaussian'",
    ),
    # -- priors
    Case(
        "prior",
        "negative scale",
        lambda c: bm.prior("normal(0, -1)"),
        bm.PriorError,
        r"Prior 'normal\(0, -1\)': normal's sigma must be positive, got -1",
    ),
    Case(
        "prior",
        "negative rate",
        lambda c: bm.prior("exponential(-1)", class_="sigma"),
        bm.PriorError,
        r"exponential's beta must be positive, got -1",
    ),
    Case(
        "prior",
        "uniform bounds reversed",
        lambda c: bm.prior("uniform(2, 1)"),
        bm.PriorError,
        r"uniform's lower bound must be below its upper",
    ),
    Case(
        "prior",
        "unknown distribution",
        lambda c: bm.prior("norml(0, 1)"),
        bm.PriorError,
        r"Unknown prior distribution 'norml'",
    ),
    Case(
        "prior",
        "wrong number of arguments",
        lambda c: bm.prior("normal(0)"),
        bm.PriorError,
        r"normal takes 2 argument\(s\), got 1",
    ),
    Case(
        "prior",
        "prior passed as a bare string",
        lambda c: _mm(S, c.sleep, prior="normal(0, 1)"),
        TypeError,
        r"Pass priors as bayesml\.prior\('normal\(0, 1\)', class_=\.\.\.\)",
    ),
    Case(
        "prior",
        "lkj on class b",
        lambda c: _mm(S, c.sleep, prior=bm.prior("lkj(2)")),
        bm.PriorError,
        r"'lkj' is a prior for correlation matrices",
    ),
    Case(
        "prior",
        "coefficient not in the model",
        lambda c: _mm(S, c.sleep, prior=bm.prior("normal(0, 1)", coef="days")),
        bm.PriorError,
        r"Coefficient 'days' is not a 'b' parameter of this model .* valid coefficients: 'Days'",
    ),
    Case(
        "prior",
        "group not in the model",
        lambda c: _mm(S, c.sleep, prior=bm.prior("normal(0, 1)", class_="sd", group="subj")),
        bm.PriorError,
        r"Group 'subj' has no 'sd' parameters .* valid groups: 'Subject'",
    ),
    Case(
        "prior",
        "parameter the family lacks",
        lambda c: _mm(S, c.sleep, prior=bm.prior("gamma(2, 1)", class_="shape")),
        bm.PriorError,
        r"Family 'gaussian' has no parameter 'shape'",
    ),
    Case(
        "prior",
        "bound contradicting the class",
        lambda c: _mm(S, c.sleep, prior=bm.prior("normal(0, 1)", class_="sd", lb=-1)),
        bm.PriorError,
        r"Bound lb = -1 contradicts class 'sd'",
    ),
    Case(
        "prior",
        "flat prior with sample_prior='only'",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, sample_prior="only"),
        bm.PriorError,
        r"Sampling from priors is not possible .* parameter 'b'",
    ),
    # -- sampling arguments
    Case(
        "sampling",
        "negative seed",
        lambda c: _brm("Reaction ~ Days", c.sleep, seed=-5),
        ValueError,
        r"seed must lie in \[0, 2\*\*32\), got -5",
    ),
    Case(
        "sampling",
        "fractional seed",
        lambda c: _brm("Reaction ~ Days", c.sleep, seed=1.5),
        ValueError,
        r"seed must be a whole number in \[0, 2\*\*32\) or None, got 1\.5",
    ),
    Case(
        "sampling",
        "zero chains",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, chains=0),
        ValueError,
        r"chains must be at least 1, got 0",
    ),
    Case(
        "sampling",
        "warmup not below iter",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, iter=100, warmup=100),
        ValueError,
        r"warmup must lie in \[0, iter\); got warmup=100, iter=100",
    ),
    Case(
        "sampling",
        "thin larger than the draws",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, iter=10, thin=20),
        ValueError,
        r"thin = 20 keeps no draw of the 5 post-warmup iterations",
    ),
    Case(
        "sampling",
        "unknown sample_prior",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, sample_prior="maybe"),
        ValueError,
        r"sample_prior must be 'no', 'yes' or 'only', got 'maybe'",
    ),
    Case(
        "sampling",
        "unknown group_effects",
        lambda c: _mm(S, c.sleep, group_effects="fast"),
        ValueError,
        r"Unknown group_effects 'fast'",
    ),
    Case(
        "sampling",
        "unknown sampler argument",
        lambda c: _brm("Reaction ~ Days", c.sleep, step_size=0.1),
        TypeError,
        r"Unknown sampler argument\(s\) for nutpie: step_size",
    ),
    Case(
        "sampling",
        "mass-matrix update frequency of 0",
        lambda c: _brm("Reaction ~ Days", c.sleep, nuts={"mass_matrix_update_freq": 0}),
        ValueError,
        r"nuts\['mass_matrix_update_freq'\] must be at least 1, got 0",
    ),
    # -- predictions
    Case(
        "predict",
        "new levels without allow_new_levels",
        lambda c: c.fit.posterior_epred(NEW),
        ValueError,
        r"levels of 'Subject' that the model has not seen: 999\. Pass allow_new_levels=True",
        needs_fit=True,
    ),
    Case(
        "predict",
        "newdata without a needed column",
        lambda c: c.fit.posterior_epred(NEW[["Subject"]]),
        KeyError,
        r"Column 'Days' \(used in formula term 'Days'\) is not in the data",
        needs_fit=True,
    ),
    Case(
        "predict",
        "newdata with missing values",
        lambda c: c.fit.posterior_epred(NEW.assign(Days=[1, np.nan])),
        ValueError,
        r"newdata has missing values in Days",
        needs_fit=True,
    ),
    Case(
        "predict",
        "newdata not a DataFrame",
        lambda c: c.fit.posterior_epred({"Days": [1]}),
        TypeError,
        r"newdata must be a pandas, polars or pyarrow table, got dict",
        needs_fit=True,
    ),
    Case(
        "predict",
        "ndraws of 0",
        lambda c: c.fit.posterior_predict(ndraws=0),
        ValueError,
        r"ndraws must be at least 1, got 0",
        needs_fit=True,
    ),
    Case(
        "predict",
        "draw_ids out of range",
        lambda c: c.fit.posterior_predict(draw_ids=[0, 5000]),
        ValueError,
        r"draw_ids must lie in 0\.\.299 .* got 5000",
        needs_fit=True,
    ),
    Case(
        "predict",
        "unknown sample_new_levels",
        lambda c: c.fit.posterior_epred(NEW, allow_new_levels=True, sample_new_levels="mean"),
        ValueError,
        r"sample_new_levels must be one of uncertainty, gaussian, old_levels, "
        r"got 'mean'",
        needs_fit=True,
    ),
    Case(
        "predict",
        "re_formula naming an unknown group",
        lambda c: c.fit.posterior_epred(re_formula="~ (1 | subj)"),
        ValueError,
        r"re_formula names groups the model does not have: subj; groups: Subject",
        needs_fit=True,
    ),
    Case(
        "predict",
        "unknown fitted scale",
        lambda c: c.fit.fitted(scale="log"),
        ValueError,
        r"scale must be 'response' or 'linear', got 'log'",
        needs_fit=True,
    ),
    # -- results
    Case(
        "results",
        "hypothesis with '>>'",
        lambda c: c.fit.hypothesis("Days >> 0"),
        ValueError,
        r"Cannot read hypothesis 'Days >> 0': '>0' is not an arithmetic expression",
        needs_fit=True,
    ),
    Case(
        "results",
        "hypothesis without comparison",
        lambda c: c.fit.hypothesis("Days"),
        ValueError,
        r"Cannot read hypothesis 'Days': it has no comparison",
        needs_fit=True,
    ),
    Case(
        "results",
        "hypothesis on an unknown parameter",
        lambda c: c.fit.hypothesis("days > 0"),
        ValueError,
        r"Parameter 'days' in hypothesis 'days' not found; available: Intercept, "
        r"Days",
        needs_fit=True,
    ),
    Case(
        "results",
        "plot_ranef of a misspelt group",
        lambda c: bm.plot_ranef(c.fit, "Subjet"),
        KeyError,
        r"^The model has no group-level term for 'Subjet'; its groups: Subject\.$",
        needs_fit=True,
    ),
    Case(
        "results",
        "summary with prob outside (0, 1)",
        lambda c: c.fit.summary(prob=95),
        ValueError,
        r"prob must lie in \(0, 1\), got 95",
        needs_fit=True,
    ),
    Case(
        "results",
        "loo_compare with one fit",
        lambda c: bm.loo_compare(c.fit),
        ValueError,
        r"loo_compare needs at least two fits",
        needs_fit=True,
    ),
    # -- saving and loading
    Case(
        "files",
        "save into a folder of the user's files",
        lambda c: c.fit.save(_user_folder(c)),
        bm.FitStoreError,
        r"is an existing folder that is not a saved bayesml fit; bayesml will not write over it",
        needs_fit=True,
    ),
    Case(
        "files",
        "save over a saved fit without overwrite",
        lambda c: c.fit.save(_saved(c)),
        bm.FitStoreError,
        r"already holds a saved fit; pass overwrite=True to replace it",
        needs_fit=True,
    ),
    Case(
        "files",
        "brm(file=) pointing at a user folder",
        lambda c: bm.brm("Reaction ~ Days", c.sleep, file=str(_user_folder(c))),
        bm.FitStoreError,
        r"is an existing folder that is not a saved bayesml fit",
    ),
    Case(
        "files",
        "load a folder that is not a saved fit",
        lambda c: bm.load(_user_folder(c)),
        bm.FitStoreError,
        r"is not a fit saved by bayesml",
    ),
    Case(
        "files",
        "load a path that does not exist",
        lambda c: bm.load(c.tmp / "nothing.zarr"),
        bm.FitStoreError,
        r"No saved fit at .*nothing\.zarr.*: the path does not exist",
    ),
    Case(
        "response terms",
        "unknown censoring code",
        lambda c: _mm(
            "Reaction | cens(status) ~ Days",
            c.with_column(status=["none"] * 9 + ["sideways"] + ["right"] * 170),
            family="weibull",
        ),
        bm.DataError,
        r"cens\(status\) term has 1 unknown censoring code\(s\) \(row 10, e\.g\. 'sideways'\)",
    ),
    Case(
        "response terms",
        "interval censoring with y2 below the response",
        lambda c: _mm(
            "Reaction | cens(status, upper) ~ Days",
            c.with_column(status=2, upper=c.sleep["Reaction"] - np.r_[-1.0, 5.0, [-1.0] * 178]),
        ),
        bm.DataError,
        r"upper end y2 must lie above the response 'Reaction' .*\(row 2, e\.g\. Reaction",
    ),
    Case(
        "response terms",
        "response outside trunc() bounds",
        lambda c: _mm("Reaction | trunc(ub = 400) ~ Days", c.sleep),
        bm.DataError,
        r"trunc\(\): \d+ value\(s\) of the response 'Reaction' lie outside the truncation "
        r"bounds \(rows \d+",
    ),
    Case(
        "response terms",
        "negative rate()",
        lambda c: _mm(
            "count | rate(hours) ~ Days",
            c.with_column(count=1, hours=np.r_[-2.0, [1.0] * 179]),
            family="poisson",
        ),
        bm.DataError,
        r"rate\(hours\) term has 1 rate\(s\) that are not positive \(row 1, e\.g\. -2\)",
    ),
    Case(
        "response terms",
        "cens() with a family that has none",
        lambda c: _mm(
            "hit | cens(status) ~ Days",
            c.with_column(hit=c.sleep["Days"] > 4, status=0),
            family="bernoulli",
        ),
        bm.ResponseError,
        r"Addition term cens\(\) cannot be used with family 'bernoulli' "
        r"\(it accepts: weights\(\)\)",
    ),
    Case(
        "response terms",
        "a fixed parameter outside its range",
        lambda c: _mm("bf(Reaction ~ Days, quantile = 1.2)", c.sleep, family="asym_laplace"),
        bm.FormulaError,
        r"quantile = 1\.2 lies outside the values 'quantile' can take",
    ),
    Case(
        "response terms",
        "a categorical response with one category",
        lambda c: _mm("kind ~ Days", c.with_column(kind="slow"), family="categorical"),
        bm.ResponseError,
        r"Family 'categorical' needs at least 2 categories, but 'kind' has 1 \(slow\)",
    ),
    Case(
        "response terms",
        "cs() with a family without category-specific effects",
        lambda c: _mm(
            "stage ~ cs(Days)",
            c.with_column(stage=1 + (c.sleep["Days"] > 3) + (c.sleep["Days"] > 6)),
            family="cumulative",
        ),
        bm.FormulaError,
        r"Category-specific effects \(cs\(Days\)\) are not supported for family 'cumulative'; "
        r"they are for sratio, cratio, acat",
    ),
    # -- smooths and Gaussian processes
    Case(
        "smooths",
        "s() with k above the covariate's unique values",
        lambda c: _mm("Reaction ~ s(Days, k = 11)", c.sleep),
        bm.DataError,
        r"s\(Days, k = 11\): covariate 'Days' has 10 unique values, too few for a basis of "
        r"dimension k = 11",
    ),
    Case(
        "smooths",
        "a by factor with a level that has no rows",
        lambda c: _mm(
            "Reaction ~ s(Days, k = 5, by = arm) + arm",
            c.with_column(
                arm=pd.Categorical(np.where(c.sleep["Days"] > 4, "b", "a"), ["a", "b", "c"])
            ),
        ),
        bm.DataError,
        r"s\(Days, k = 5, by = arm\): the by-variable 'arm' has categories with no rows in "
        r"the data \(c\)",
    ),
    Case(
        "smooths",
        "gp() of a text column",
        lambda c: _mm("Reaction ~ gp(Subject)", c.sleep),
        bm.DataError,
        r"gp\(Subject\): column 'Subject' is not numeric",
    ),
    Case(
        "smooths",
        "s() inside a group-level term",
        lambda c: _mm("Reaction ~ Days + (s(Days) | Subject)", c.sleep),
        bm.FormulaError,
        r"s\(\) cannot be part of a group-level term \(\(s\(Days\) \| Subject\)\)",
    ),
    Case(
        "smooths",
        "s() of a factor",
        lambda c: _mm("Reaction ~ s(Subject)", c.sleep),
        bm.DataError,
        r"s\(Subject\): column 'Subject' holds .* values; smooth terms take numeric",
    ),
    Case(
        "smooths",
        "an option of mgcv's s() that is not supported",
        lambda c: _mm("Reaction ~ s(Days, fx = TRUE)", c.sleep),
        bm.FormulaError,
        r"s\(\) has no option 'fx' here; the options supported are k, bs, by",
    ),
]
