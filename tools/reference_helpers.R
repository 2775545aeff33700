# Helpers shared by the R scripts that write reference fixtures (source it from the project
# root: source("tools/reference_helpers.R")).

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
