# emmeans (Debian r-cran-emmeans) on a brms 2.18 fit, the reference for bayesml's
# interpretation functions. sleepstudy with a two-level factor phase ("early": Days < 5,
# "late"), Reaction ~ Days + phase + (1 | Subject), brms's defaults (seed 1, 4 chains, iter
# 2000). emmeans works on the population-level part (varying effects left out), and its
# estimates are posterior medians. Writes tests/reference/emmeans_sleep.json: for each
# quantity the median, its MCSE (posterior::mcse_median), the sd and the ESS of its draws.
#   Rscript tools/emmeans_reference.R   (from the project root; 2 cores)
suppressPackageStartupMessages({
  library(brms)
  library(emmeans)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/usr/include")

d <- read.csv("../shared/data/sleepstudy.csv")
d$Subject <- factor(d$Subject)
d$phase <- factor(ifelse(d$Days < 5, "early", "late"), levels = c("early", "late"))
fit <- brm(Reaction ~ Days + phase + (1 | Subject), data = d, seed = 1, cores = 2,
           refresh = 0)

record <- function(grid, label) {
  draws <- posterior::as_draws_matrix(as.mcmc(grid, sep.chains = FALSE))
  s <- summary(grid, point.est = median)
  lapply(seq_len(ncol(draws)), function(j) {
    x <- draws[, j]
    list(quantity = label, term = colnames(draws)[j],
         emmeans_estimate = s[j, ncol(s) - 2],
         median = median(x), mcse_median = posterior::mcse_median(x), sd = sd(x),
         ess_bulk = posterior::ess_bulk(x))
  })
}

means <- emmeans(fit, ~ phase, at = list(Days = 4.5))
out <- c(
  record(means, "means at Days 4.5"),
  record(pairs(means, reverse = TRUE), "late - early at Days 4.5"),
  record(emtrends(fit, ~ 1, var = "Days"), "slope of Days")
)
write_json(list(formula = "Reaction ~ Days + phase + (1 | Subject)",
                brms = as.character(packageVersion("brms")),
                emmeans = as.character(packageVersion("emmeans")),
                rows = out),
           "tests/reference/emmeans_sleep.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
print(means)
print(pairs(means, reverse = TRUE))
print(emtrends(fit, ~ 1, var = "Days"))
