"""Same-run, whole-process comparison of bayesml with bambi (run by hand).

    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_compare.py \\
        --bambi /path/to/bambi-venv/bin/python [--seed 1] [model ...]

Each fit is a fresh Python process on this machine, one after another (nothing else running):
bayesml's ``brm()`` with brms's defaults (4 chains, 1000 warmup + 1000 draws), and bambi (its
own virtual environment: bambi pins an older formulae) with the same chains, draws and seed,
once with nutpie and once with PyMC's NUTS. bambi has no correlated varying effects, so
``(x | g)`` and ``(x || g)`` are both its uncorrelated terms. Reported per fit: the process's
wall seconds, the seconds inside the sampler (nutpie's or PyMC's own clock), the smallest bulk
ESS over the population-level effects, group-level sds and correlations and the family
parameters (brms's b, sd, cor, sigma; bambi's common terms, ``|g_sigma`` and ``sigma``), bulk
ESS per wall second, and the process's peak resident memory. brms's wall seconds come from
the reference runs in ../shared/reference/brms (same machine type, compile + sampling).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "brms"

BAYESML = """
import json, sys, time, warnings
start = time.perf_counter()
import bayesml as bm
from bayesml.datasets import seed_model_data
ref = json.load(open(sys.argv[1]))
clock = {}
run_nutpie = bm.sampling.run_nutpie
def timed_run(*args, **kwargs):  # the sampler's own seconds (compilation excluded)
    t = time.perf_counter()
    try:
        return run_nutpie(*args, **kwargs)
    finally:
        clock["sampling"] = time.perf_counter() - t
bm.sampling.run_nutpie = timed_run
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    fit = bm.brm(ref["formula"], seed_model_data(ref["model"]), family=ref["family"],
                 seed=int(sys.argv[2]), progressbar=False)
wall = time.perf_counter() - start
diag = fit.diagnostics()
keep = [v for v in diag.index if v.startswith(("b_", "sd_", "cor_")) or v in ("sigma",)]
print(json.dumps({"wall": wall, "sampling": clock["sampling"],
                  "ess": float(diag.loc[keep, "Bulk_ESS"].min()),
                  "rhat": float(diag.loc[keep, "Rhat"].max())}))
"""

BAMBI = """
import json, re, sys, time, warnings
start = time.perf_counter()
import arviz as az, bambi as bmb, pandas as pd
formula, family, csv, seed, sampler = sys.argv[1:6]
data = pd.read_csv(csv)
for g in set(re.findall(r"\\|\\s*([A-Za-z_.0-9]+)", formula)):
    data[g] = data[g].astype(str)
for col in data.columns:
    if data[col].dtype == bool:
        data[col] = data[col].astype(int)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model = bmb.Model(formula, data, family=family)
    kwargs = dict(draws=1000, tune=1000, chains=4, random_seed=int(seed), progressbar=False)
    if sampler == "nutpie":
        kwargs["inference_method"] = "nutpie"
    idata = model.fit(**kwargs)
wall = time.perf_counter() - start
post = idata.posterior
keep = [v for v in post.data_vars
        if not any(d not in ("chain", "draw") and not d.endswith("_dim") for d in post[v].dims)
        and not v.endswith("_offset") and v != "mu" and not v.endswith("_mean")]
ess = az.ess(idata, var_names=keep, method="bulk")
rhat = az.rhat(idata, var_names=keep)
sampling = float(post.attrs.get("sampling_time", float("nan")))
print(json.dumps({"wall": wall, "sampling": sampling,
                  "ess": float(min(float(ess[v].min()) for v in keep)),
                  "rhat": float(max(float(rhat[v].max()) for v in keep)), "vars": keep}))
"""


def bambi_formula(formula: str) -> str:
    """bambi's spelling of a seed model's formula: ``||`` as ``|``, brms's binomial
    ``m | trials(n)`` as ``p(m, n)``."""
    formula = formula.replace("||", "|")
    trials = re.match(r"\s*(\w+)\s*\|\s*trials\((\w+)\)\s*~(.*)", formula)
    if trials:
        formula = f"p({trials[1]}, {trials[2]}) ~{trials[3]}"
    return formula


def timed(cmd: list[str]) -> dict:
    out = subprocess.run(["/usr/bin/time", "-f", "RSS %M", *cmd], capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1][:120]}
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rss_mb"] = int(re.findall(r"RSS (\d+)", out.stderr)[-1]) / 1024
    return result


def row(name: str, label: str, r: dict) -> str:
    if "error" in r:
        return f"| {name} | {label} | failed: {r['error']} |||||"
    return (
        f"| {name} | {label} | {r['wall']:.1f} | {r['sampling']:.1f} | {r['ess']:.0f} "
        f"| {r['ess'] / r['wall']:.0f} | {r['rhat']:.3f} | {r['rss_mb']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*")
    parser.add_argument("--bambi", help="python of bambi's virtual environment")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bayesml-only", action="store_true", help="skip bambi and brms")
    args = parser.parse_args()
    from bayesml.datasets import SEED_MODELS, seed_model_data

    print("| model | fit | wall s | sampler s | min bulk ESS | ESS per wall s | max R-hat "
          "| peak RSS MB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models or SEED_MODELS:
            ref_path = REFERENCE / f"{name}.json"
            ref = json.loads(ref_path.read_text())
            r = timed([sys.executable, "-c", BAYESML, str(ref_path), str(args.seed)])
            print(row(name, "bayesml", r), flush=True)
            if args.bayesml_only:
                continue
            csv = Path(tmp) / f"{name}.csv"
            seed_model_data(name).to_csv(csv, index=False)
            formula = bambi_formula(ref["formula"])
            for sampler in ("nutpie", "pymc"):
                cmd = [args.bambi, "-c", BAMBI, formula, ref["family"], str(csv),
                       str(args.seed), sampler]  # fmt: skip
                print(row(name, f"bambi + {sampler}", timed(cmd)), flush=True)
            print(f"| {name} | brms 2.18 (reference run) | {ref['total_elapsed_s']:.1f} "
                  "||||||", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
