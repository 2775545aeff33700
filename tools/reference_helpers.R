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
