# brms 2.18 post-fit reference: writes tests/reference/brms_post_fit.json with, for four
# models (sleep_full, alcohol, rats, sleep_glmm; seed 1, brms defaults: 4 chains, iter 2000,
# warmup 1000, default priors), the random-effect posterior summaries (posterior 1.4
# summarise_draws: mean, sd, q2.5, q97.5, ess_bulk, ess_tail, mcse_mean, mcse_q2.5,
# mcse_q97.5), loo/waic (loo 2.5.1), parameter values and log_lik for draws
# 1, 1000, 2000, 3000, 4000, the lme4 1.1-31 conditional modes/sds of the same model, and the
# brms wall time.
#   Rscript tools/brms_post_fit_reference.R   (from the project root; 2 cores)
# Run: 2026-11-28 (about 4 minutes; no divergences, max Rhat 1.020 for alcohol).
# Notes: brms names levels with spaces replaced by "." (alcohol: "United.Kingdom"); the
#   lme4 records keep the data's levels ("United Kingdom"). loo 2.5.1's mcse_loo() is NA
#   when any pareto k > 0.7, which happens in all four models, so no mcse_elpd_loo is stored.
#   "seconds" is the whole brm() call, Stan compilation included; "sampling_seconds" is the
#   sum of rstan's per-chain warmup + sampling times.
suppressPackageStartupMessages({
  library(brms)
  library(posterior)
  library(loo)
  library(lme4)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")

draw_ids <- c(1, 1000, 2000, 3000, 4000)
out_file <- "tests/reference/brms_post_fit.json"

# Evaluate expr, collecting (and muffling) warnings and messages.
collect <- function(expr) {
  warns <- character(0)
  msgs <- character(0)
  value <- withCallingHandlers(expr,
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  list(value = value, warnings = warns, messages = msgs)
}

ranef_summary <- function(fit) {
  d <- as_draws_df(fit)
  vars <- grep("^r_", variables(d), value = TRUE)
  s <- summarise_draws(
    subset_draws(d, variable = vars),
    mean = mean, sd = sd,
    q2.5 = ~ unname(quantile(.x, 0.025, type = 7)),
    q97.5 = ~ unname(quantile(.x, 0.975, type = 7)),
    ess_bulk = ess_bulk, ess_tail = ess_tail, mcse_mean = mcse_mean,
    mcse_q2.5 = ~ unname(mcse_quantile(.x, probs = 0.025)),
    mcse_q97.5 = ~ unname(mcse_quantile(.x, probs = 0.975)))
  m <- regmatches(s$variable, regexec("^r_([^[]+)\\[(.*),([^],]+)\\]$", s$variable, perl = TRUE))
  stopifnot(all(lengths(m) == 4))
  data.frame(group = vapply(m, `[`, "", 2), level = vapply(m, `[`, "", 3),
             coef = vapply(m, `[`, "", 4),
             mean = s$mean, sd = s$sd, q2.5 = s$q2.5, q97.5 = s$q97.5,
             ess_bulk = s$ess_bulk, ess_tail = s$ess_tail, mcse_mean = s$mcse_mean,
             mcse_q2.5 = s$mcse_q2.5, mcse_q97.5 = s$mcse_q97.5,
             check.names = FALSE, stringsAsFactors = FALSE)
}

loo_summary <- function(fit) {
  lw <- collect(loo(fit))
  l <- lw$value
  e <- l$estimates
  res <- list(elpd_loo = e["elpd_loo", "Estimate"], se_elpd_loo = e["elpd_loo", "SE"],
              p_loo = e["p_loo", "Estimate"], se_p_loo = e["p_loo", "SE"],
              looic = e["looic", "Estimate"],
              n_pareto_k_gt_0.7 = sum(pareto_k_values(l) > 0.7),
              max_pareto_k = max(pareto_k_values(l)))
  mc <- tryCatch(mcse_loo(l), error = function(e) NA_real_)
  if (is.finite(mc)) res$mcse_elpd_loo <- mc
  if (length(lw$warnings)) res$warnings <- I(lw$warnings)
  res
}

waic_summary <- function(fit) {
  w <- collect(waic(fit))
  e <- w$value$estimates
  res <- list(elpd_waic = e["elpd_waic", "Estimate"], se_elpd_waic = e["elpd_waic", "SE"],
              p_waic = e["p_waic", "Estimate"], waic = e["waic", "Estimate"])
  if (length(w$warnings)) res$warnings <- I(w$warnings)
  res
}

pointwise <- function(fit) {
  d <- as_draws_df(fit)
  keep <- grep("^(b_|sd_|cor_|sigma|Intercept|r_)", variables(d), value = TRUE)
  df <- as.data.frame(d)
  rows <- match(draw_ids, df$.draw)
  stopifnot(!anyNA(rows))
  pars <- df[rows, c(".draw", keep)]
  rownames(pars) <- NULL
  names(pars) <- c(".draw", keep)
  ll <- log_lik(fit, draw_ids = draw_ids)
  list(draw_ids = draw_ids, draws = pars,
       log_lik = lapply(seq_len(nrow(ll)), function(i) unname(ll[i, ])))
}

lme4_summary <- function(expr) {
  r <- collect(eval(expr, globalenv()))
  fit <- r$value
  re <- as.data.frame(ranef(fit, condVar = TRUE))
  recs <- data.frame(group = as.character(re$grpvar), level = as.character(re$grp),
                     coef = sub("^\\(Intercept\\)$", "Intercept", as.character(re$term)),
                     mode = re$condval, condsd = re$condsd, stringsAsFactors = FALSE)
  conv <- fit@optinfo$conv$lme4$messages
  list(ranef = recs, warnings = unique(c(r$warnings, conv)), messages = r$messages,
       singular = isSingular(fit))
}

run_model <- function(name, formula, family, data, lme4_expr) {
  cat("==", name, "==\n")
  t0 <- Sys.time()
  b <- collect(brm(formula, data = data, family = family, seed = 1, chains = 4, iter = 2000,
                   warmup = 1000, cores = 2, refresh = 0))
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  fit <- b$value
  sf <- fit$fit
  rhat <- summarise_draws(as_draws_df(fit), rhat)$rhat
  lm <- lme4_summary(lme4_expr)
  res <- list(
    formula = paste(deparse(formula), collapse = " "),
    family = family$family,
    ranef = ranef_summary(fit),
    loo = loo_summary(fit),
    waic = waic_summary(fit),
    pointwise = pointwise(fit),
    lme4 = lm$ranef,
    lme4_warnings = I(lm$warnings),
    lme4_singular = lm$singular,
    diagnostics = list(
      divergent = rstan::get_num_divergent(sf),
      max_treedepth_hits = rstan::get_num_max_treedepth(sf),
      max_rhat = max(rhat, na.rm = TRUE),
      brms_warnings = I(b$warnings)),
    seconds = secs,
    sampling_seconds = sum(rstan::get_elapsed_time(sf)))
  cat(sprintf("  %.1f s; divergent %d; max rhat %.4f; elpd_loo %.3f; k>0.7 %d; lme4 warnings %d\n",
              secs, res$diagnostics$divergent, res$diagnostics$max_rhat, res$loo$elpd_loo,
              res$loo$n_pareto_k_gt_0.7, length(lm$warnings)))
  if (length(b$warnings)) cat("  brms warnings:", b$warnings, sep = "\n    ")
  if (length(lm$warnings)) cat("  lme4 warnings:", lm$warnings, sep = "\n    ")
  res
}

sleep <- read.csv("bayesml/data/sleepstudy.csv")
sleep$Subject <- factor(sleep$Subject)
alc <- read.csv("../shared/data/alcohol.csv")
rats <- read.csv("../shared/data/rats.csv")
rats$batch <- factor(rats$batch)
sleep_g <- sleep
sleep_g$fast_rt <- sleep_g$Reaction < median(sleep_g$Reaction)

out <- list()
out$sleep_full <- run_model("sleep_full", Reaction ~ Days + (Days | Subject), gaussian(), sleep,
  quote(lmer(Reaction ~ Days + (Days | Subject), data = sleep, REML = TRUE)))
out$alcohol <- run_model("alcohol", alcohol ~ 1 + (1 | country), gaussian(), alc,
  quote(lmer(alcohol ~ 1 + (1 | country), data = alc, REML = TRUE)))
out$rats <- run_model("rats", m | trials(n) ~ 1 + (1 | batch), binomial(), rats,
  quote(glmer(cbind(m, n - m) ~ 1 + (1 | batch), data = rats, family = binomial)))
out$sleep_glmm <- run_model("sleep_glmm", fast_rt ~ Days + (Days | Subject), bernoulli(), sleep_g,
  quote(glmer(fast_rt ~ Days + (Days | Subject), data = sleep_g, family = binomial)))

write_json(out, out_file, auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote", out_file, "\n")
