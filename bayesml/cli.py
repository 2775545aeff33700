"""The ``bayesml`` command: fit, prior tables, summaries and predictions from a shell.

    bayesml priors "Reaction ~ Days + (Days | Subject)" --data sleepstudy
    bayesml fit "Reaction ~ Days + (Days | Subject)" --data sleep.csv --out sleep.zarr
    bayesml summary sleep.zarr
    bayesml predict sleep.zarr --newdata new.csv --out predictions.csv
    bayesml datasets

``--data`` takes a CSV or Parquet file, or the name of a dataset of the registry. Exit codes:
0 done, 1 the model, data or a file was refused (one line on stderr says why), 2 the command
line itself is wrong (argparse's usage message), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

__all__ = ["main", "parse_prior"]

PRIOR_KEYS = {"class": "class_", "coef": "coef", "group": "group", "dpar": "dpar", "lb": "lb",
              "ub": "ub"}  # fmt: skip


class CommandError(Exception):
    """Input the command refuses (exit code 1, the message on stderr)."""


def _split_top_level(text: str) -> list[str]:
    """``text`` split at commas outside parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def parse_prior(text: str):
    """A prior written as brms's ``set_prior`` arguments:
    ``"normal(0, 1), class = b, coef = Days"`` → ``prior("normal(0, 1)", class_="b",
    coef="Days")``."""
    from .priors import prior

    distribution, *pairs = _split_top_level(text)
    kwargs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in PRIOR_KEYS:
            raise CommandError(
                f"--prior '{text}': '{pair}' is not one of "
                f"{', '.join(k + ' = ...' for k in PRIOR_KEYS)}."
            )
        kwargs[PRIOR_KEYS[key]] = value.strip()
    if not distribution:
        raise CommandError(f"--prior '{text}' has no distribution, e.g. 'normal(0, 1)'.")
    return prior(distribution, **kwargs)


def read_table(source: str, option: str = "--data") -> pd.DataFrame:
    """A CSV or Parquet file, or a registry dataset by name."""
    from .datasets import load, registry

    path = Path(source)
    if path.is_file():
        if path.suffix.lower() in (".parquet", ".pq"):
            data = pd.read_parquet(path)
        else:
            data = pd.read_csv(path)
        data.attrs["name"] = path.stem
        return data
    if source in registry():
        return load(source)
    raise CommandError(
        f"{option} '{source}' is neither a file nor a dataset of the registry "
        f"({', '.join(registry())})."
    )


def _cmd_priors(args) -> int:
    from .model_priors import get_prior

    data = read_table(args.data)
    priors = [parse_prior(p) for p in args.prior] or None
    print(get_prior(args.formula, data, args.family, priors))
    return 0


def _cmd_fit(args) -> int:
    from .brm import brm

    data = read_table(args.data)
    priors = [parse_prior(p) for p in args.prior] or None
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise CommandError(f"{out} exists; pass --overwrite to replace a saved fit.")
    fit = brm(
        args.formula, data, family=args.family, prior=priors, chains=args.chains,
        iter=args.iter, warmup=args.warmup, seed=args.seed, progressbar=not args.quiet,
    )  # fmt: skip
    print(fit.summary(prob=args.prob))
    if out is not None:
        fit.save(out, overwrite=args.overwrite)
        print(f"\nSaved to {out}")
    return 0


def _cmd_summary(args) -> int:
    from .fit import load

    print(load(args.fit).summary(prob=args.prob))
    return 0


def _cmd_predict(args) -> int:
    from .fit import load

    fit = load(args.fit)
    newdata = read_table(args.newdata, "--newdata") if args.newdata else None
    kw = {"allow_new_levels": args.allow_new_levels}
    if args.type == "response":
        table = fit.predict(newdata, prob=args.prob, seed=args.seed, **kw)
    else:
        table = fit.fitted(newdata, prob=args.prob, **kw)
    if args.out:
        table.to_csv(args.out, index=False)
    else:
        table.to_csv(sys.stdout, index=False)
    return 0


def _cmd_datasets(args) -> int:
    from .datasets import registry

    for e in registry().values():
        where = "bundled" if e.bundled else "downloaded on first use"
        print(f"{e.name}  ({where}; {e.licence})\n  columns: {', '.join(e.columns)}")
        if args.verbose:
            print(f"  source: {e.source}\n  url: {e.url}\n  sha256: {e.sha256}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayesml",
        description="Bayesian multilevel models with brms's formulas, priors and output.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_options(p):
        p.add_argument("formula", help='brms formula, e.g. "Reaction ~ Days + (Days | Subject)"')
        p.add_argument("--data", required=True, help="CSV or Parquet file, or a dataset name")
        p.add_argument("--family", default="gaussian", help="brms family (default gaussian)")
        p.add_argument(
            "--prior", action="append", default=[], metavar="PRIOR",
            help="a prior as brms's set_prior arguments, repeatable: "
                 "'normal(0, 1), class = b, coef = Days'",
        )  # fmt: skip

    p = sub.add_parser("priors", help="the prior table brms's get_prior() prints")
    model_options(p)
    p.set_defaults(run=_cmd_priors)

    p = sub.add_parser("fit", help="fit a model, print its summary, save it")
    model_options(p)
    p.add_argument("--out", help="folder to save the fit in (zarr), e.g. fit.zarr")
    p.add_argument("--overwrite", action="store_true", help="replace a fit saved at --out")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--iter", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=None, help="default: iter / 2")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--prob", type=float, default=0.95, help="interval probability")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_cmd_fit)

    p = sub.add_parser("summary", help="print a saved fit's summary")
    p.add_argument("fit", help="a fit saved with fit.save() or bayesml fit --out")
    p.add_argument("--prob", type=float, default=0.95)
    p.set_defaults(run=_cmd_summary)

    p = sub.add_parser("predict", help="fitted values or predictions as CSV")
    p.add_argument("fit", help="a saved fit")
    p.add_argument("--newdata", help="CSV or Parquet file (default: the fit's data)")
    p.add_argument(
        "--type", choices=("epred", "response"), default="epred",
        help="epred: expected values (brms's fitted); response: predictions",
    )  # fmt: skip
    p.add_argument("--allow-new-levels", action="store_true")
    p.add_argument("--prob", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", help="CSV file (default: standard output)")
    p.set_defaults(run=_cmd_predict)

    p = sub.add_parser("datasets", help="the datasets bayesml can load by name")
    p.add_argument("-v", "--verbose", action="store_true", help="also source, URL and sha256")
    p.set_defaults(run=_cmd_datasets)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)

    def one_line(message, category, *_args, **_kwargs):
        print(f"bayesml {args.command}: {category.__name__}: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = one_line  # no source lines: the user wrote no Python
            return args.run(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (CommandError, ValueError, TypeError, KeyError, OSError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"bayesml {args.command}: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
