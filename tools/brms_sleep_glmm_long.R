# brms 2.18, the bernoulli sleepstudy model (sleep_glmm) with long chains: its varying effects'
# posterior summaries and its WAIC and PSIS-LOO from 40 000 draws, the better reference for
# ranef(), waic() and loo() where the seed-1 reference carries more Monte Carlo error than a
# fit's MCSE says (tests/test_criteria.py). Writes tests/reference/brms_sleep_glmm_long.json.
#   Rscript tools/brms_sleep_glmm_long.R   (from the project root; ../shared/data holds the CSV)
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")
source("tools/reference_helpers.R")

sleep_g <- read.csv("../shared/data/sleepstudy.csv")
sleep_g$Subject <- factor(sleep_g$Subject)
sleep_g$fast_rt <- sleep_g$Reaction < median(sleep_g$Reaction)
t0 <- Sys.time()
fit <- brm(fast_rt ~ Days + (Days | Subject), data = sleep_g, family = bernoulli(), seed = 7,
           chains = 4, iter = 11000, warmup = 1000, cores = 2, refresh = 0)
secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
d <- posterior::as_draws_df(fit)
vars <- c(grep("^(b_|sd_|cor_)", posterior::variables(d), value = TRUE),
          grep("^r_Subject\\[", posterior::variables(d), value = TRUE))
s <- draws_summary(d, vars)
m <- regmatches(s$variable, regexec("^r_Subject\\[(.*),([^],]+)\\]$", s$variable, perl = TRUE))
s$level <- vapply(m, function(x) if (length(x) == 3) x[2] else NA_character_, "")
s$coef <- vapply(m, function(x) if (length(x) == 3) x[3] else NA_character_, "")
sp <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
w <- waic(fit)
l <- loo(fit)
out <- list(
  `_source` = paste("brms 2.18, tools/brms_sleep_glmm_long.R: fast_rt ~ Days + (Days | Subject),",
                    "bernoulli, seed 7, 4 chains of 10 000 draws after 1 000 warmup"),
  seconds = secs,
  divergences = sum(vapply(sp, function(x) sum(x[, "divergent__"]), 0)),
  summary = s,
  waic = list(elpd_waic = w$estimates["elpd_waic", "Estimate"],
              se_elpd_waic = w$estimates["elpd_waic", "SE"],
              p_waic = w$estimates["p_waic", "Estimate"]),
  loo = list(elpd_loo = l$estimates["elpd_loo", "Estimate"],
             se_elpd_loo = l$estimates["elpd_loo", "SE"],
             p_loo = l$estimates["p_loo", "Estimate"]))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
           "tests/reference/brms_sleep_glmm_long.json")
print(s[!grepl("^r_", s$variable), ])
print(w$estimates)
print(l$estimates)
cat("seconds", secs, "\n")
