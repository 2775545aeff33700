# brms 2.18 reference for the sampler-robustness case: the Poisson GLMM with two crossed
# grouping factors and an unscaled predictor (tests/data/scale/stuck_poisson.csv, written by
# `python -m tests.simulate_scale`). Fitted with brms's defaults (4 chains, iter 2000, warmup
# 1000, seed 1, cores 2, default priors), and once more with iter 6000 (warmup 1000) for a
# reference with smaller Monte Carlo error. Writes tests/reference/brms_robust.json: per run
# the printed summary, posterior 1.4 summarise_draws records (tools/reference_helpers.R) of
# b_Intercept, b_x, sd_g1__Intercept and sd_g2__Intercept, the number of divergent transitions
# and max-treedepth hits after warmup, and the brm() wall time (compilation included).
#   Rscript tools/brms_robust_reference.R   (from the project root; 2 cores)
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

d <- read.csv("tests/data/scale/stuck_poisson.csv")
d$g1 <- factor(d$g1)
d$g2 <- factor(d$g2)
vars <- c("b_Intercept", "b_x", "sd_g1__Intercept", "sd_g2__Intercept")

runs <- default_and_long_runs(y ~ x + (1 | g1) + (1 | g2), d, poisson(), vars)
write_json(runs, "tests/reference/brms_robust.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(runs$default$summary, "\n", runs$long$summary, "\n")
