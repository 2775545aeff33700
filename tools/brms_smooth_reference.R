# brms 2.18 / mgcv reference for smooth terms and Gaussian processes: writes
# tests/reference/brms_smooth.json from the data of tests/simulate_smooth.py
# (tests/data/smooth/<name>.csv; column g read as a factor).
#
# "bases": for each smooth spec, brms's own basis (make_standata: the unpenalised columns Xs,
#   every penalised block Zs_<i>_<j>, the knots) on the data, and on a 7-point grid of new data
#   (standata() of an empty brmsfit with newdata), row-major lists of rows. brms builds these
#   with mgcv::smoothCon + smooth2random, so they are mgcv's bases as brms uses them.
# "priors": brms's printed get_prior() for each smooth/GP model (or the error under "error").
# "fits": brms defaults (seed 1, 4 chains, iter 2000, warmup 1000, cores 2) with posterior 1.4
#   summarise_draws records (mean, sd, q2.5, q97.5, rhat, ess_bulk, ess_tail, mcse_mean,
#   mcse_q2.5, mcse_q97.5) for every variable not starting with r_, z_, zs_, zgp_, L_, lp__,
#   lprior or Intercept; the names of all variables; summary(fit) as printed; divergences; the
#   brm() wall time (compilation included); and on a 100-point grid of the first smooth's
#   variable (other variables at their mean, factors at the first level, re_formula = NA):
#   the posterior mean and MCSE of posterior_epred and, for s()/t2() terms, of
#   posterior_smooths() per grid point.
#   Rscript tools/brms_smooth_reference.R   (from the project root; 2 cores)
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

data_dir <- "tests/data/smooth"
out_file <- "tests/reference/brms_smooth.json"

read_data <- read_smooth_data

basis_data <- function(sd) {
  keep <- grep("^(X|Xs|Zs_.*|knots_.*|nb_.*|Ks)$", names(sd), value = TRUE)
  out <- list()
  for (k in keep) {
    v <- sd[[k]]
    out[[k]] <- if (is.matrix(v)) rows_of(v) else I(unname(as.vector(v)))
  }
  out
}

bases <- list(
  tp = list(data = "curve", formula = "y ~ s(x)", var = "x"),
  tp_k5 = list(data = "curve", formula = "y ~ s(x, k = 5)", var = "x"),
  cr = list(data = "curve", formula = "y ~ s(x, bs = \"cr\")", var = "x"),
  cs = list(data = "curve", formula = "y ~ s(x, bs = \"cs\")", var = "x"),
  cc = list(data = "curve", formula = "y ~ s(x, bs = \"cc\")", var = "x"),
  ps = list(data = "curve", formula = "y ~ s(x, bs = \"ps\")", var = "x"),
  by_factor = list(data = "byfactor", formula = "y ~ s(x, by = g) + g", var = "x"),
  by_numeric = list(data = "surface", formula = "y ~ s(x, by = z)", var = "x"),
  tp_2d = list(data = "surface", formula = "y ~ s(x, z)", var = "x"),
  t2 = list(data = "surface", formula = "y ~ t2(x, z)", var = "x")
)

priors <- list(
  s = list(data = "curve", formula = "y ~ s(x)", family = "gaussian"),
  s_k5_cr = list(data = "curve", formula = "y ~ s(x, k = 5, bs = \"cr\")", family = "gaussian"),
  s_by = list(data = "byfactor", formula = "y ~ s(x, by = g) + g", family = "gaussian"),
  s_2d = list(data = "surface", formula = "y ~ s(x, z)", family = "gaussian"),
  t2 = list(data = "surface", formula = "y ~ t2(x, z)", family = "gaussian"),
  s_sigma = list(data = "curve", formula = "bf(y ~ s(x), sigma ~ s(x))", family = "gaussian"),
  s_poisson_g = list(data = "counts", formula = "y ~ s(x) + (1 | g)", family = "poisson"),
  gp = list(data = "gp", formula = "y ~ gp(x)", family = "gaussian"),
  gp_approx = list(data = "gp", formula = "y ~ gp(x, k = 20, c = 5/4)", family = "gaussian"),
  gp_noscale = list(data = "gp", formula = "y ~ gp(x, scale = FALSE)", family = "gaussian"),
  gp_2d = list(data = "surface", formula = "y ~ gp(x, z)", family = "gaussian"),
  gp_2d_aniso = list(data = "surface", formula = "y ~ gp(x, z, iso = FALSE)",
                     family = "gaussian"),
  gp_by = list(data = "byfactor", formula = "y ~ gp(x, by = g) + g", family = "gaussian")
)

fits <- list(
  s_curve = list(data = "curve", formula = "y ~ s(x)", family = "gaussian", var = "x",
                 smooth = "s(x)"),
  s_by = list(data = "byfactor", formula = "y ~ s(x, by = g) + g", family = "gaussian",
              var = "x", smooth = "s(x,by=g)"),
  t2 = list(data = "surface", formula = "y ~ t2(x, z)", family = "gaussian", var = "x",
            smooth = "t2(x,z)"),
  # brms's defaults left the GP fits unconverged (exact: R-hat 3.08; approximate: 186
  # divergences), so these two run with a higher adapt_delta
  gp = list(data = "gp", formula = "y ~ gp(x)", family = "gaussian", var = "x", smooth = "",
            control = list(adapt_delta = 0.99)),
  gp_approx = list(data = "gp", formula = "y ~ gp(x, k = 20, c = 5/4)", family = "gaussian",
                   var = "x", smooth = "", control = list(adapt_delta = 0.99)),
  s_poisson_g = list(data = "counts", formula = "y ~ s(x) + (1 | g)", family = "poisson",
                     var = "x", smooth = "s(x)")
)

out <- if (file.exists(out_file)) fromJSON(out_file, simplifyVector = FALSE) else list()
save <- function() write_json(out, out_file, auto_unbox = TRUE, digits = NA, pretty = TRUE)

for (name in names(bases)) {
  if (!is.null(out$bases[[name]])) next
  spec <- bases[[name]]
  cat("== basis", name, "==\n")
  d <- read_data(spec$data)
  f <- eval(parse(text = spec$formula))
  res <- list(data = spec$data, formula = spec$formula)
  res <- tryCatch({
    res$standata <- basis_data(make_standata(f, data = d))
    empty <- brm(f, data = d, empty = TRUE)
    grid <- grid_for(d, spec$var, 7)
    res$grid <- grid
    res$newdata <- basis_data(standata(empty, newdata = grid))
    res
  }, error = function(e) { res$error <- conditionMessage(e); res })
  out$bases[[name]] <- res
  save()
}

for (name in names(priors)) {
  if (!is.null(out$priors[[name]])) next
  spec <- priors[[name]]
  cat("== prior", name, "==\n")
  d <- read_data(spec$data)
  res <- list(data = spec$data, formula = spec$formula, family = spec$family)
  res <- tryCatch({
    gp <- get_prior(eval(parse(text = spec$formula)), data = d,
                    family = brmsfamily(spec$family))
    res$get_prior <- I(capture.output(print(gp)))
    res
  }, error = function(e) { res$error <- conditionMessage(e); res })
  out$priors[[name]] <- res
  save()
}

excluded <- "^(r_|z_|zs_|zgp_|L_|lp__|lprior|Intercept)"

grid_stats <- function(x, chains) {
  # x: draws x points, draws in chain order
  n <- nrow(x) / chains
  lapply(seq_len(ncol(x)), function(j) {
    a <- matrix(x[, j], nrow = n, ncol = chains)
    list(mean = mean(a), mcse = mcse_mean(a))
  })
}

for (name in names(fits)) {
  spec <- fits[[name]]
  # a fit is redone when its sampler settings changed
  if (!is.null(out$fits[[name]]$summary) &&
      identical(out$fits[[name]]$control$adapt_delta, spec$control$adapt_delta)) next
  cat("== fit", name, "==\n")
  d <- read_data(spec$data)
  res <- list(data = spec$data, formula = spec$formula, family = spec$family,
              control = spec$control)
  t0 <- Sys.time()
  fit <- tryCatch(
    brm(eval(parse(text = spec$formula)), data = d, family = brmsfamily(spec$family),
        seed = 1, chains = 4, iter = 2000, warmup = 1000, cores = 2, refresh = 0,
        control = spec$control),
    error = function(e) e)
  res$seconds <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  if (inherits(fit, "error")) {
    res$error <- conditionMessage(fit)
  } else {
    dr <- as_draws_df(fit)
    vars <- variables(dr)
    keep <- vars[!grepl(excluded, vars)]
    s <- draws_summary(dr, keep)
    res$summary <- as.data.frame(s)
    res$variables <- I(vars)
    res$summary_text <- I(capture.output(print(summary(fit))))
    res$divergences <- rstan::get_num_divergent(fit$fit)
    # per-chain means show a chain stuck in another mode
    res$chain_means <- lapply(split(as.data.frame(dr[, keep]), dr$.chain), colMeans)
    grid <- grid_for(d, spec$var, 100)
    res$grid <- grid
    res$epred <- grid_stats(posterior_epred(fit, newdata = grid, re_formula = NA), 4)
    if (nzchar(spec$smooth)) {
      sm <- tryCatch(posterior_smooths(fit, smooth = spec$smooth, newdata = grid),
                     error = function(e) e)
      if (inherits(sm, "error")) res$smooth_error <- conditionMessage(sm)
      else res$smooth <- grid_stats(sm, 4)
    }
    cat(sprintf("  %.1f s; max rhat %.4f; %d divergent\n", res$seconds,
                max(res$summary$rhat, na.rm = TRUE), as.integer(res$divergences)))
  }
  out$fits[[name]] <- res
  save()
}
cat("wrote", out_file, "\n")
