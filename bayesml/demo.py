"""``make demo``: the seed model on the bundled sleepstudy data."""

from __future__ import annotations

import time

from . import brm, datasets, get_prior

FORMULA = "Reaction ~ Days + (Days | Subject)"


def main() -> None:
    sleep = datasets.load("sleepstudy")
    print(f"get_prior({FORMULA!r}, sleepstudy)\n")
    print(get_prior(FORMULA, sleep))
    print(f"\nbrm({FORMULA!r}, sleepstudy, seed=1)\n")
    t0 = time.perf_counter()
    fit = brm(FORMULA, sleep, seed=1, progressbar=False)
    elapsed = time.perf_counter() - t0
    print(fit.summary())
    print(f"\n(brm took {elapsed:.1f} s: model build, compilation and 4 x 2000 NUTS iterations)")


if __name__ == "__main__":
    main()
