# A long brms run of the Poisson smooth model y ~ s(x) + (1 | g) (data
# tests/data/smooth/counts.csv), whose default run (tools/brms_smooth_reference.R) had 11
# divergent transitions: adapt_delta = 0.99, 4 chains of 6000 iterations (1000 warmup), so
# that the upper tail of sds_sx_1 is known to a smaller Monte Carlo error.
#   Rscript tools/brms_smooth_long.R   (from the project root; 2 cores)
#   writes tests/reference/brms_smooth_long.json (summarise_draws records as in
#   brms_smooth_reference.R, and the run's seconds and divergences)
source("tools/reference_helpers.R")  # loads brms, posterior and jsonlite

d <- read.csv("tests/data/smooth/counts.csv")
d$g <- factor(d$g)
t0 <- Sys.time()
fit <- brm(y ~ s(x) + (1 | g), data = d, family = poisson(), seed = 2, chains = 4,
           iter = 6000, warmup = 1000, cores = 2, refresh = 0,
           control = list(adapt_delta = 0.99))
seconds <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
dr <- as_draws_df(fit)
keep <- c("b_Intercept", "bs_sx_1", "sd_g__Intercept", "sds_sx_1")
s <- draws_summary(dr, keep)
out <- list(s_poisson_g = list(formula = "y ~ s(x) + (1 | g)", seconds = seconds,
                               divergences = rstan::get_num_divergent(fit$fit),
                               summary = as.data.frame(s)))
write_json(out, "tests/reference/brms_smooth_long.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
print(s)
cat(sprintf("%.1f s; %d divergent\n", seconds, rstan::get_num_divergent(fit$fit)))
