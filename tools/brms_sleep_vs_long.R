# brms 2.18, sleep_vs with 40 000 draws (seed 7): how far the seed-1 reference quantiles sit from a long run.
# Result (2026-11-26): b_Days q2.5 6.444, q97.5 14.416, sd 2.007 (reference seed-1 run: 6.893, 14.166, 1.847).
suppressPackageStartupMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include")
sleep <- read.csv("/work/main/bayesml/data/sleepstudy.csv"); sleep$Subject <- factor(sleep$Subject)
fit <- brm(Reaction ~ Days + (0 + Days | Subject), data = sleep, seed = 7, cores = 2, chains = 4, iter = 11000, warmup = 1000, refresh = 0)
d <- as_draws_df(fit)
cat("brms long b_Days q2.5", quantile(d$b_Days, 0.025), "q97.5", quantile(d$b_Days, 0.975), "sd", sd(d$b_Days), "\n")
print(summary(fit))
