# Helpers shared by the R scripts that write reference fixtures (source it from the project
# root: source("tools/reference_helpers.R")). Sourcing it loads brms, posterior and jsonlite
# and points rstan at Debian's Boost headers.
suppressPackageStartupMessages({
  library(brms)
  library(posterior)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")

# posterior 1.4 summarise_draws records of the variables `vars` of draws `d`, in that order:
# mean, sd, q2.5, q97.5 (quantile2), rhat, ess_bulk, ess_tail, mcse_mean and the MCSE of both
# quantiles; the records the tests' rule reads (tests/brms_compare.py).
draws_summary <- function(d, vars) {
  if (!length(vars)) return(list())
  s <- posterior::summarise_draws(
    posterior::subset_draws(d, variable = vars),
    mean = mean, sd = sd,
    q2.5 = ~ unname(posterior::quantile2(.x, probs = 0.025)),
    q97.5 = ~ unname(posterior::quantile2(.x, probs = 0.975)),
    rhat = posterior::rhat, ess_bulk = posterior::ess_bulk, ess_tail = posterior::ess_tail,
    mcse_mean = posterior::mcse_mean,
    `mcse_q2.5` = ~ unname(posterior::mcse_quantile(.x, probs = 0.025)),
    `mcse_q97.5` = ~ unname(posterior::mcse_quantile(.x, probs = 0.975)))
  s <- as.data.frame(s, stringsAsFactors = FALSE)
  stopifnot(identical(s$variable, vars))
  s
}

# The data of tests/data/smooth/<name>.csv (written by tests/simulate_smooth.py), column g a
# factor.
read_smooth_data <- function(name) {
  d <- read.csv(file.path("tests/data/smooth", paste0(name, ".csv")))
  if (!is.null(d$g)) d$g <- factor(d$g)
  d
}

# A matrix as a list of rows for the JSON; I() keeps one-column rows as arrays (auto_unbox
# would make them numbers).
rows_of <- function(m) {
  m <- as.matrix(m)
  lapply(seq_len(nrow(m)), function(i) I(unname(m[i, ])))
}

# n rows of new data: `var` over its range, other columns at their mean or first level.
grid_for <- function(d, var, n) {
  g <- d[rep(1, n), , drop = FALSE]
  for (v in names(d)) {
    if (is.factor(d[[v]])) g[[v]] <- factor(levels(d[[v]])[1], levels = levels(d[[v]]))
    else g[[v]] <- mean(d[[v]])
  }
  g[[var]] <- seq(min(d[[var]]), max(d[[var]]), length.out = n)
  rownames(g) <- NULL
  g
}

# A brms fit with brms's defaults (4 chains, iter 2000, warmup 1000, seed 1, cores 2, default
# priors) and the same model once more with `long_iter` iterations (warmup 1000), a reference
# with smaller Monte Carlo error. Per run: the printed summary, draws_summary records of
# `vars`, the divergent transitions and max-treedepth hits after warmup, and the brm() wall
# time (compilation included).
default_and_long_runs <- function(formula, data, family, vars, long_iter = 6000) {
  run <- function(iter, fit0 = NULL) {
    t0 <- Sys.time()
    fit <- if (is.null(fit0)) {
      brms::brm(formula, data = data, family = family, seed = 1, chains = 4, iter = iter,
                warmup = 1000, cores = 2, refresh = 0)
    } else {
      stats::update(fit0, iter = iter, warmup = 1000, seed = 1, cores = 2, refresh = 0)
    }
    secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
    np <- brms::nuts_params(fit)
    list(
      iter = iter,
      seconds = secs,
      summary = paste(capture.output(print(summary(fit))), collapse = "\n"),
      divergent = sum(np$Value[np$Parameter == "divergent__"]),
      treedepth_max = sum(np$Value[np$Parameter == "treedepth__"] >= 10),
      draws = draws_summary(posterior::as_draws_df(fit), vars),
      fit = fit
    )
  }
  default <- run(2000)
  long <- run(long_iter, default$fit)
  default$fit <- NULL
  long$fit <- NULL
  list(default = default, long = long)
}
