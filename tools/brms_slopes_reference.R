# brms 2.18 reference for correlated varying slopes of a Poisson model with an uncentred
# predictor: y ~ x + (x | g), 30 groups, x from 0 to 9 in every group
# (tests/data/scale/slopes_poisson.csv, written by `python -m tests.simulate_scale`). Fitted
# with brms's defaults (4 chains, iter 2000, warmup 1000, seed 1, cores 2, default priors), and
# once more with iter 6000 (warmup 1000) for a reference with smaller Monte Carlo error.
# Writes tests/reference/brms_slopes.json: per run the printed summary, posterior 1.4
# summarise_draws records (tools/reference_helpers.R) of b_Intercept, b_x, sd_g__Intercept,
# sd_g__x and cor_g__Intercept__x, the divergent transitions and max-treedepth hits after
# warmup, and the brm() wall time (compilation included).
#   Rscript tools/brms_slopes_reference.R   (from the project root; 2 cores)
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

d <- read.csv("tests/data/scale/slopes_poisson.csv")
d$g <- factor(d$g)
vars <- c("b_Intercept", "b_x", "sd_g__Intercept", "sd_g__x", "cor_g__Intercept__x")

runs <- default_and_long_runs(y ~ x + (x | g), d, poisson(), vars)
write_json(runs, "tests/reference/brms_slopes.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(runs$default$summary, "\n", runs$long$summary, "\n")
