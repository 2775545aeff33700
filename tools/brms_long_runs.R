# brms 2.18, alcohol and classroom_uncorr with long chains: where the seed-1 reference's 95%
# interval ends sit relative to brms's own long runs (Monte Carlo error of the reference).
#   Rscript tools/brms_long_runs.R   (from the project root; ../shared/data holds the CSVs)
# Result (2026-11-26, seed 7):
#   alcohol, 40 000 draws: sd_country__Intercept q2.5 4.274, q97.5 5.263, sd 0.252
#     (seed-1 reference: 4.327, 5.254, 0.241)
#   classroom_uncorr, 20 000 draws: sd_classid__Intercept q2.5 1.355, q97.5 12.19, sd 2.71
#     (reference 1.872, 12.32, 2.62); cor_schoolid__Intercept__ses q2.5 -0.345, q97.5 0.964,
#     sd 0.338 (reference -0.419, 0.957, 0.354)
#   classroom_nested, 20 000 draws: sd_schoolid:classid2__Intercept q2.5 2.156, q97.5 12.44,
#     sd 2.54, tail ESS 2107 (reference 2.620)
suppressPackageStartupMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include")
show <- function(fit, vars) {
  d <- as_draws_df(fit)
  for (v in vars) {
    x <- d[[v]]
    cat(sprintf("%s q2.5 %.4f q97.5 %.4f sd %.4f\n", v, quantile(x, 0.025), quantile(x, 0.975), sd(x)))
  }
  print(summary(fit))
}
alc <- read.csv("../shared/data/alcohol.csv")
fit <- brm(alcohol ~ 1 + (1 | country), data = alc, seed = 7, cores = 2, chains = 4,
           iter = 11000, warmup = 1000, refresh = 0)
show(fit, c("sd_country__Intercept", "b_Intercept"))
cls <- read.csv("../shared/data/classroom.csv")
fit <- brm(mathscore ~ ses + (ses || classid) + (ses | schoolid), data = cls, seed = 7,
           cores = 2, chains = 4, iter = 6000, warmup = 1000, refresh = 0)
show(fit, c("sd_classid__Intercept", "cor_schoolid__Intercept__ses"))
fit <- brm(mathscore ~ ses + (1 | schoolid/classid2), data = cls, seed = 7, cores = 2,
           chains = 4, iter = 6000, warmup = 1000, refresh = 0)
show(fit, c("sd_schoolid:classid2__Intercept"))
