# Pointwise log-likelihoods of truncated models as brms >= 2.21 computes them: brms 2.18's
# log_lik_truncate() computes the normalising term but does not subtract it (its result is
# discarded), so its log_lik() of a truncated model is the untruncated density. This script
# patches the later brms version of log_lik_truncate() (x - log(F(ub) - F(lb)), from
# brms's GitHub sources) into the installed brms 2.18 and writes, for the truncated models of
# tests/data/extra/models.json, a short fit (1 chain, iter 400, warmup 200, seed 1) with the
# draws 50, 120, 200 and log_lik() both ways:
#   tests/reference/brms_extra_trunc.json  {name: {formula, family, data, draws, log_lik_218,
#                                                  log_lik}}
#   Rscript tools/brms_trunc_loglik.R   (from the project root)
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")

log_lik_truncate_fixed <- function(x, cdf, args, i, prep) {
  lb <- prep$data[["lb"]][i]
  ub <- prep$data[["ub"]][i]
  if (is.null(lb) && is.null(ub)) {
    return(x)
  }
  if (!is.null(lb)) {
    log_cdf_lb <- do.call(cdf, c(lb, args, log.p = TRUE))
  } else {
    log_cdf_lb <- rep(-Inf, length(x))
  }
  if (!is.null(ub)) {
    log_cdf_ub <- do.call(cdf, c(ub, args, log.p = TRUE))
  } else {
    log_cdf_ub <- rep(0, length(x))
  }
  x - brms:::log_diff_exp(log_cdf_ub, log_cdf_lb)
}

data_dir <- "tests/data/extra"
specs <- fromJSON(file.path(data_dir, "models.json"), simplifyVector = FALSE)
out <- list()
for (spec in specs) {
  if (!grepl("trunc(", spec$formula, fixed = TRUE)) next
  cat("==", spec$name, "==\n")
  d <- read.csv(file.path(data_dir, paste0(spec$data, ".csv")))
  if (!is.null(d$g)) d$g <- factor(d$g)
  fit <- brm(eval(parse(text = spec$formula)), data = d, family = brmsfamily(spec$family),
             seed = 1, chains = 1, iter = 400, warmup = 200, refresh = 0)
  ids <- c(50, 120, 200)
  df <- as.data.frame(as_draws_df(fit), check.names = FALSE)
  keep <- setdiff(names(df), c("lp__", "lprior", ".chain", ".iteration"))
  draws <- df[match(ids, df$.draw), keep, drop = FALSE]
  rownames(draws) <- NULL
  ll_218 <- log_lik(fit, draw_ids = ids)
  original <- brms:::log_lik_truncate
  assignInNamespace("log_lik_truncate", log_lik_truncate_fixed, ns = "brms")
  ll <- log_lik(fit, draw_ids = ids)
  assignInNamespace("log_lik_truncate", original, ns = "brms")
  out[[spec$name]] <- list(
    formula = spec$formula, family = spec$family, data = spec$data, draws = draws,
    log_lik_218 = lapply(seq_len(nrow(ll_218)), function(i) unname(ll_218[i, ])),
    log_lik = lapply(seq_len(nrow(ll)), function(i) unname(ll[i, ])))
  cat(sprintf("  mean difference of the two: %.4f\n", mean(ll - ll_218)))
}
write_json(out, "tests/reference/brms_extra_trunc.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat("wrote tests/reference/brms_extra_trunc.json\n")
