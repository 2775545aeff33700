# brms 2.18 distributional-parameter and monotonic-effect reference: writes
# tests/reference/brms_dpar.json with, for the simulated data sets in tests/data/dpar/
# (tests/simulate_dpar.py, MODELS), per model: the formula, family and data file name, the
# printed get_prior() output, and, for the 11 fitted models (seed 1, brms defaults: 4 chains,
# iter 2000, warmup 1000, default priors), the printed fit$prior and summary(fit), the names of
# all draws variables, posterior 1.4 summarise_draws records (mean, sd, q2.5, q97.5 (type 7, as
# quantile2), rhat, ess_bulk, ess_tail, mcse_mean, mcse_q2.5, mcse_q97.5) for every
# non-auxiliary variable ("summary") and for every r_ variable ("ranef"), the number of
# divergent transitions and max-treedepth hits after warmup, and the brm() wall time
# ("seconds", Stan compilation included). Two more models (cumulative_disc_intercept, mo_colon)
# have get_prior output only.
#   Rscript tools/brms_dpar_reference.R   (from the project root; 2 cores)
# Run: 2026-11-28 (about 11 minutes; 47-77 s per fit, compilation included; no divergences or
#   max-treedepth hits; max Rhat 1.0089 (gaussian_id); mo_g warns of low tail ESS: 323 for
#   sd_g__mom).
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

data_dir <- "tests/data/dpar"
out_file <- "tests/reference/brms_dpar.json"

# name = list(data file, formula text, family text, fit?)
models <- list(
  gaussian_sigma = list("gaussian.csv", "bf(y ~ x, sigma ~ x)", "gaussian()", TRUE),
  gaussian_sigma_g = list("gaussian_g.csv", "bf(y ~ x + (1 | g), sigma ~ x + (1 | g))",
                          "gaussian()", TRUE),
  gaussian_id = list("gaussian_g.csv", "bf(y ~ x + (1 |p| g), sigma ~ x + (1 |p| g))",
                     "gaussian()", TRUE),
  student_sigma_nu = list("student.csv", "bf(y ~ x, sigma ~ x, nu ~ 1)", "student()", TRUE),
  negbinomial_shape = list("negbinomial.csv", "bf(y ~ x, shape ~ x)", "negbinomial()", TRUE),
  beta_phi = list("beta.csv", "bf(y ~ x, phi ~ x)", "Beta()", TRUE),
  lognormal_sigma = list("lognormal.csv", "bf(y ~ x, sigma ~ x)", "lognormal()", TRUE),
  cumulative_disc = list("cumulative.csv", "bf(y ~ x, disc ~ 0 + x)", "cumulative()", TRUE),
  mo = list("mo.csv", "y ~ mo(m)", "gaussian()", TRUE),
  mo_z = list("mo.csv", "y ~ z + mo(m):z", "gaussian()", TRUE),
  mo_g = list("mo_g.csv", "y ~ mo(m) + (mo(m) | g)", "gaussian()", TRUE),
  cumulative_disc_intercept = list("cumulative.csv", "bf(y ~ x, disc ~ x)", "cumulative()",
                                   FALSE),
  mo_colon = list("mo.csv", "y ~ mo(m):z", "gaussian()", FALSE)
)

# Evaluate expr, collecting (and muffling) warnings and messages.
collect <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  value <- withCallingHandlers(expr,
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  list(value = value, warnings = warns, messages = msgs)
}

read_data <- function(file) {
  d <- read.csv(file.path(data_dir, file))
  d$g <- factor(d$g)
  d
}


excluded <- "^(r_|z_|L_|lp__|lprior|Intercept|zs_|s_|Xme|prior_)"

run_model <- function(name, spec) {
  cat("==", name, "==\n")
  data <- read_data(spec[[1]])
  formula <- eval(parse(text = spec[[2]]))
  family <- eval(parse(text = spec[[3]]))
  res <- list(formula = spec[[2]], family = family$family, data = spec[[1]])
  gp <- collect(get_prior(formula, data = data, family = family))
  res$get_prior <- I(capture.output(print(gp$value)))
  if (!spec[[4]]) return(res)
  t0 <- Sys.time()
  b <- tryCatch(
    collect(brm(formula, data = data, family = family, seed = 1, chains = 4, iter = 2000,
                warmup = 1000, cores = 2, refresh = 0)),
    error = function(e) e)
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  if (inherits(b, "error")) {
    cat("  FAILED:", conditionMessage(b), "\n")
    res$error <- conditionMessage(b)
    res$seconds <- secs
    return(res)
  }
  fit <- b$value
  sf <- fit$fit
  d <- as_draws_df(fit)
  vars <- variables(d)
  res$fit_prior <- I(capture.output(print(fit$prior)))
  res$summary_text <- I(capture.output(print(summary(fit))))
  res$variables <- I(vars)
  keep <- vars[!grepl(excluded, vars)]
  res$summary <- draws_summary(d, keep)
  re <- grep("^r_", vars, value = TRUE)
  if (length(re)) res$ranef <- draws_summary(d, re)
  np <- nuts_params(fit)
  res$divergences <- sum(np$Value[np$Parameter == "divergent__"])
  res$max_treedepth_hits <- rstan::get_num_max_treedepth(sf)
  res$seconds <- secs
  if (length(b$warnings)) res$brms_warnings <- I(b$warnings)
  cat(sprintf("  %.1f s; divergent %d; treedepth hits %d; max rhat %.4f; %d summary, %d ranef\n",
              secs, as.integer(res$divergences), as.integer(res$max_treedepth_hits),
              max(res$summary$rhat, na.rm = TRUE), nrow(res$summary),
              if (length(re)) nrow(res$ranef) else 0L))
  if (length(b$warnings)) cat("  brms warnings:", b$warnings, sep = "\n    ")
  res
}

out <- list()
for (name in names(models)) {
  out[[name]] <- run_model(name, models[[name]])
  # write after every model so that a crash keeps what was done
  write_json(out, out_file, auto_unbox = TRUE, digits = NA, pretty = TRUE)
}
cat("wrote", out_file, "\n")
