# brms 2.18 reference for kfold(): sleepstudy Reaction ~ Days + (Days | Subject) fitted with
# brms's defaults (seed 1, 4 chains, iter 2000, cores 2), folds from
# loo::kfold_split_random(K = 10, N = 180) after set.seed(1), and kfold() run twice on those
# folds (seeds 1 and 2), so that the reference's own Monte Carlo spread is measured. Writes
# tests/reference/brms_kfold.json: the folds, and per run elpd_kfold, its SE, p_kfold and the
# pointwise elpd; plus the wall time of each kfold() run.
#   Rscript tools/brms_kfold_reference.R   (from the project root; 2 cores)
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")

d <- read.csv("../shared/data/sleepstudy.csv")
d$Subject <- factor(d$Subject)
fit <- brm(Reaction ~ Days + (Days | Subject), data = d, seed = 1, cores = 2, refresh = 0)
set.seed(1)
folds <- loo::kfold_split_random(K = 10, N = nrow(d))
run <- function(seed) {
  t0 <- Sys.time()
  kf <- kfold(fit, folds = folds, seed = seed, cores = 2)
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  est <- kf$estimates
  list(
    seed = seed,
    elpd_kfold = est["elpd_kfold", "Estimate"], se_elpd_kfold = est["elpd_kfold", "SE"],
    p_kfold = est["p_kfold", "Estimate"],
    pointwise = unname(kf$pointwise[, "elpd_kfold"]),
    seconds = secs
  )
}
out <- list(formula = "Reaction ~ Days + (Days | Subject)", folds = folds,
            runs = list(run(1), run(2)))
write_json(out, "tests/reference/brms_kfold.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
print(sapply(out$runs, function(r) c(r$elpd_kfold, r$se_elpd_kfold, r$p_kfold, r$seconds)))
