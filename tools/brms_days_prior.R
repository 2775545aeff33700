# brms 2.18 fit of sleepstudy with prior(normal(0, 1), class = b, coef = Days); seed 1, brms defaults.
# Usage: Rscript tools/brms_days_prior.R  (numbers kept in tests/reference/brms_days_prior.json)
suppressPackageStartupMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include")
sleep <- read.csv("/work/main/bayesml/data/sleepstudy.csv"); sleep$Subject <- factor(sleep$Subject)
fit <- brm(Reaction ~ Days + (Days | Subject), data = sleep, prior = prior(normal(0, 1), class = b, coef = Days), seed = 1, cores = 2, refresh = 0)
print(summary(fit))
d <- as_draws_df(fit)
cat("b_Days mean", mean(d$b_Days), "sd", sd(d$b_Days), "\n")
