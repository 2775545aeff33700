# brms 2.18 long runs behind interval ends of the distributional models whose seed-1 reference
# (tests/reference/brms_dpar.json, 4000 draws) carries more Monte Carlo error than the test's
# bound: 4 chains x 10 000 post-warmup draws, seed 7. Writes tests/reference/brms_dpar_long_runs.json
# with each parameter's 2.5% and 97.5% quantiles, sd and tail ESS.
#   Rscript tools/brms_dpar_long_runs.R     (from the project root; run 2026-11-28)
suppressPackageStartupMessages({library(brms); library(posterior); library(jsonlite)})
rstan::rstan_options(boost_lib = "/usr/include")
d <- read.csv("tests/data/dpar/beta.csv"); d$g <- factor(d$g)
fit <- brm(bf(y ~ x, phi ~ x), data = d, family = Beta(), seed = 7, chains = 4, cores = 2,
           iter = 11000, warmup = 1000, refresh = 0)
s <- summarise_draws(as_draws_df(fit), mean, sd, ~quantile2(.x, probs = c(0.025, 0.975)), ess_tail)
s <- as.data.frame(s[grepl("^b_", s$variable), ])
out <- list(beta_phi = lapply(seq_len(nrow(s)), function(i) as.list(s[i, ])))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/brms_dpar_long_runs.json")
