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
suppressPackageStartupMessages({
  library(brms)
  library(posterior)
  library(jsonlite)
})
source("tools/reference_helpers.R")
rstan::rstan_options(boost_lib = "/usr/include")

d <- read.csv("tests/data/scale/slopes_poisson.csv")
d$g <- factor(d$g)
vars <- c("b_Intercept", "b_x", "sd_g__Intercept", "sd_g__x", "cor_g__Intercept__x")

run <- function(iter, fit0 = NULL) {
  t0 <- Sys.time()
  fit <- if (is.null(fit0)) {
    brm(y ~ x + (x | g), data = d, family = poisson(), seed = 1, chains = 4, iter = iter,
        warmup = 1000, cores = 2, refresh = 0)
  } else {
    update(fit0, iter = iter, warmup = 1000, seed = 1, cores = 2, refresh = 0)
  }
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  np <- nuts_params(fit)
  list(
    iter = iter,
    seconds = secs,
    summary = paste(capture.output(print(summary(fit))), collapse = "\n"),
    divergent = sum(np$Value[np$Parameter == "divergent__"]),
    treedepth_max = sum(np$Value[np$Parameter == "treedepth__"] >= 10),
    draws = draws_summary(as_draws_df(fit), vars),
    fit = fit
  )
}

default <- run(2000)
long <- run(6000, default$fit)
default$fit <- NULL
long$fit <- NULL
write_json(list(default = default, long = long), "tests/reference/brms_slopes.json",
           auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat(default$summary, "\n", long$summary, "\n")
