# brms 2.18 reference for the extra families and addition terms: writes
# tests/reference/brms_extra.json with, for each of the 54 model specs in
# tests/data/extra/models.json (data sets tests/data/extra/<data>.csv, column g read as a
# factor), the formula, family and data name and the printed get_prior() output (or the
# error message under "error"). Models with fit == "loglik" are fitted quickly (1 chain,
# iter 400, warmup 200, seed 1, default priors) and store "pointwise": the draws
# 50, 120, 200 of every as_draws_df() column except lp__, lprior, .chain and .iteration
# (.draw kept, brms's names kept) and log_lik() for those draws (one vector per draw, one
# value per data row). Models with fit == "full" are fitted with brms defaults (seed 1,
# 4 chains, iter 2000, warmup 1000, cores 2, default priors) and store the printed fit$prior
# and summary(fit), the names of all draws variables, posterior 1.4 summarise_draws records
# (mean, sd, q2.5, q97.5 (quantile2), rhat, ess_bulk, ess_tail, mcse_mean, mcse_q2.5,
# mcse_q97.5) for every variable not starting with r_, z_, L_, lp__, lprior or Intercept,
# the number of divergent transitions and max-treedepth hits after warmup, the brm() wall
# time ("seconds", Stan compilation included), the warnings raised during brm()
# ("brms_warnings"), and "pointwise" as above for draws 1, 2000, 4000. A fit that errors
# stores its message under "error".
#   Rscript tools/brms_extra_reference.R   (from the project root; 2 cores)
# Run: 2026-11-28 (see the run notes below).
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

data_dir <- "tests/data/extra"
out_file <- "tests/reference/brms_extra.json"
specs <- fromJSON(file.path(data_dir, "models.json"), simplifyVector = FALSE)

# Evaluate expr, collecting (and muffling) warnings and messages.
collect <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  value <- withCallingHandlers(expr,
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  list(value = value, warnings = warns, messages = msgs)
}

read_data <- function(name) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")))
  d$g <- factor(d$g)
  d
}


excluded <- "^(r_|z_|L_|lp__|lprior|Intercept)"

pointwise <- function(fit, draw_ids) {
  df <- as.data.frame(as_draws_df(fit), check.names = FALSE)
  keep <- setdiff(names(df), c("lp__", "lprior", ".chain", ".iteration"))
  rows <- match(draw_ids, df$.draw)
  stopifnot(!anyNA(rows))
  pars <- df[rows, keep, drop = FALSE]
  rownames(pars) <- NULL
  names(pars) <- keep
  ll <- log_lik(fit, draw_ids = draw_ids)
  stopifnot(nrow(ll) == length(draw_ids))
  list(draw_ids = draw_ids, draws = pars,
       log_lik = lapply(seq_len(nrow(ll)), function(i) unname(ll[i, ])))
}

fit_model <- function(res, formula, family, data, full) {
  t0 <- Sys.time()
  b <- tryCatch(
    if (full) {
      collect(brm(formula, data = data, family = family, seed = 1, chains = 4, iter = 2000,
                  warmup = 1000, cores = 2, refresh = 0))
    } else {
      collect(brm(formula, data = data, family = family, seed = 1, chains = 1, iter = 400,
                  warmup = 200, cores = 1, refresh = 0))
    },
    error = function(e) e)
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  res$seconds <- secs
  if (inherits(b, "error")) {
    cat("  FIT FAILED:", conditionMessage(b), "\n")
    res$error <- conditionMessage(b)
    return(res)
  }
  fit <- b$value
  sf <- fit$fit
  if (full) {
    d <- as_draws_df(fit)
    vars <- variables(d)
    res$fit_prior <- I(capture.output(print(fit$prior)))
    res$summary_text <- I(capture.output(print(summary(fit))))
    res$variables <- I(vars)
    keep <- vars[!grepl(excluded, vars)]
    res$summary <- draws_summary(d, keep)
    res$divergences <- rstan::get_num_divergent(sf)
    res$max_treedepth_hits <- rstan::get_num_max_treedepth(sf)
    res$seconds <- secs
    res$brms_warnings <- I(b$warnings)
    res$pointwise <- pointwise(fit, c(1, 2000, 4000))
    cat(sprintf("  %.1f s; divergent %d; treedepth hits %d; max rhat %.4f; %d summary rows\n",
                secs, as.integer(res$divergences), as.integer(res$max_treedepth_hits),
                max(res$summary$rhat, na.rm = TRUE), nrow(res$summary)))
  } else {
    res$brms_warnings <- I(b$warnings)
    res$pointwise <- pointwise(fit, c(50, 120, 200))
    cat(sprintf("  %.1f s; %d draws columns\n", secs, ncol(res$pointwise$draws)))
  }
  if (length(b$warnings)) cat("  brms warnings:", b$warnings, sep = "\n    ")
  res
}

run_model <- function(spec) {
  cat("==", spec$name, "==\n")
  res <- list(formula = spec$formula, family = spec$family, data = spec$data)
  data <- read_data(spec$data)
  formula <- eval(parse(text = spec$formula))
  family <- brmsfamily(spec$family)
  gp <- tryCatch(collect(get_prior(formula, data = data, family = family)),
                 error = function(e) e)
  if (inherits(gp, "error")) {
    cat("  GET_PRIOR FAILED:", conditionMessage(gp), "\n")
    res$error <- conditionMessage(gp)
  } else {
    res$get_prior <- I(capture.output(print(gp$value)))
    if (length(gp$warnings)) res$get_prior_warnings <- I(gp$warnings)
  }
  fit <- if (is.null(spec$fit)) "" else spec$fit
  if (fit %in% c("loglik", "full")) {
    res <- tryCatch(fit_model(res, formula, family, data, full = fit == "full"),
                    error = function(e) {
                      cat("  POST-FIT FAILED:", conditionMessage(e), "\n")
                      res$error <- conditionMessage(e)
                      res
                    })
  }
  res
}

# Resume: models already complete in out_file are kept (RESUME=0 starts afresh).
out <- if (file.exists(out_file) && Sys.getenv("RESUME", "1") == "1")
  fromJSON(out_file, simplifyVector = FALSE) else list()
complete <- function(res, spec) {
  fit <- if (is.null(spec$fit)) "" else spec$fit
  !is.null(res) && (!is.null(res$get_prior) || !is.null(res$error)) &&
    (fit == "" || !is.null(res$pointwise) || !is.null(res$error))
}
for (spec in specs) {
  if (complete(out[[spec$name]], spec)) next
  out[[spec$name]] <- tryCatch(run_model(spec), error = function(e) {
    cat("  FAILED:", conditionMessage(e), "\n")
    list(formula = spec$formula, family = spec$family, data = spec$data,
         error = conditionMessage(e))
  })
  # write after every model so that a crash keeps what was done
  write_json(out, out_file, auto_unbox = TRUE, digits = NA, pretty = TRUE)
}
cat("wrote", out_file, "\n")
