# A converged reference for y ~ gp(x) (data tests/data/smooth/gp.csv), where brms 2.18 itself
# does not converge (R-hat 3.08 at its defaults, 3.42 with adapt_delta = 0.99: its chains stick
# in different places; see tests/reference/brms_smooth.json, fits$gp$chain_means).
#
# The same model as brms's: x divided by its largest distance (brms's scale = TRUE), brms's
# default priors as get_prior() prints them for these data (Intercept student_t(3, 0, 2.5),
# sdgp and sigma half student_t(3, 0, 2.5), lscale inv_gamma(1.494197, 0.056607)) and the
# squared-exponential GP with brms's 1e-12 jitter, but with the GP integrated out of the
# Gaussian likelihood: y ~ N(Intercept, K + sigma^2 I). Only Intercept, sdgp, lscale and sigma
# are sampled, so the chains mix. The expected response on the 100-point grid of
# brms_smooth_reference.R is the GP's conditional mean given y and the draw's parameters,
# whose posterior mean equals that of brms's posterior_epred.
#   Rscript tools/stan_gp_marginal_reference.R   (from the project root; 2 cores)
#   writes tests/reference/stan_gp_marginal.json
suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
  library(jsonlite)
})
source("tools/reference_helpers.R")
rstan_options(boost_lib = "/usr/include")

d <- read.csv("tests/data/smooth/gp.csv")
dmax <- max(dist(d$x))
grid_x <- seq(min(d$x), max(d$x), length.out = 100)
code <- "
data {
  int N; int M;
  real x[N]; vector[N] y; real xg[M];
}
parameters {
  real Intercept; real<lower=0> sdgp; real<lower=0> lscale; real<lower=0> sigma;
}
model {
  matrix[N, N] K = cov_exp_quad(x, sdgp, lscale);
  for (n in 1:N) K[n, n] += square(sigma) + 1e-12;
  y ~ multi_normal_cholesky(rep_vector(Intercept, N), cholesky_decompose(K));
  Intercept ~ student_t(3, 0, 2.5);
  sdgp ~ student_t(3, 0, 2.5);
  lscale ~ inv_gamma(1.494197, 0.056607);
  sigma ~ student_t(3, 0, 2.5);
}
generated quantities {
  vector[M] epred;
  {
    matrix[N, N] K = cov_exp_quad(x, sdgp, lscale);
    matrix[N, M] Kx = cov_exp_quad(x, xg, sdgp, lscale);
    for (n in 1:N) K[n, n] += square(sigma) + 1e-12;
    epred = Intercept + Kx' * mdivide_left_spd(K, y - Intercept);
  }
}
"
t0 <- Sys.time()
fit <- stan(model_code = code,
            data = list(N = nrow(d), M = 100, x = d$x / dmax, y = d$y, xg = grid_x / dmax),
            seed = 1, chains = 4, iter = 2000, warmup = 1000, cores = 2, refresh = 0)
seconds <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
dr <- as_draws_df(fit)
pars <- c("Intercept", "sdgp", "lscale", "sigma")
s <- draws_summary(dr, pars)
s$variable <- c("b_Intercept", "sdgp_gpx", "lscale_gpx", "sigma")
ep <- unclass(as_draws_matrix(subset_draws(dr, variable = "epred")))
grid <- lapply(seq_len(ncol(ep)), function(j) {
  a <- matrix(ep[, j], ncol = 4)
  list(mean = mean(a), mcse = mcse_mean(a))
})
out <- list(data = "gp", formula = "y ~ gp(x)", family = "gaussian", dmax = dmax,
            seconds = seconds, summary = as.data.frame(s),
            divergences = get_num_divergent(fit), grid_x = grid_x, epred = grid)
write_json(out, "tests/reference/stan_gp_marginal.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
print(s)
cat(sprintf("%.1f s; %d divergent\n", seconds, get_num_divergent(fit)))
