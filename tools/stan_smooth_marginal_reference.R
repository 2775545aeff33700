# Converged references for the Gaussian smooth models of tools/brms_smooth_reference.R, to
# check the upper tails of brms's sds draws (brms samples the penalised coefficients
# non-centred, with 3-10 divergent transitions per fit).
#
# The same models as brms's: brms's own basis (make_standata's X, Xs and Zs blocks, stored in
# tests/reference/brms_smooth.json under "bases"), brms's default priors as get_prior() prints
# them (Intercept student_t(3, loc, scale) on the centred intercept, sds and sigma half
# student_t(3, 0, scale), flat b and bs), but the penalised coefficients integrated out of the
# Gaussian likelihood: y ~ N(Intercept + Xc b + Xs bs, sigma^2 I + sum_j sds_j^2 Z_j Z_j').
# Only the intercept, b, bs, sds and sigma are sampled.
#   Rscript tools/stan_smooth_marginal_reference.R   (from the project root; 2 cores)
#   writes tests/reference/stan_smooth_marginal.json
suppressPackageStartupMessages({
  library(rstan)
  library(posterior)
  library(jsonlite)
})
source("tools/reference_helpers.R")
rstan_options(boost_lib = "/usr/include")

ref <- fromJSON("tests/reference/brms_smooth.json", simplifyVector = TRUE)
specs <- list(
  s_curve = list(basis = "tp", loc = -5.8, scale = 21.1, b = character(0),
                 bs = "bs_sx_1", sds = "sds_sx_1"),
  s_by = list(basis = "by_factor", loc = 0.5, scale = 2.5, b = c("b_gb", "b_gc"),
              bs = c("bs_sx:ga_1", "bs_sx:gb_1", "bs_sx:gc_1"),
              sds = c("sds_sxga_1", "sds_sxgb_1", "sds_sxgc_1")),
  t2 = list(basis = "t2", loc = 0.4, scale = 2.5, b = character(0),
            bs = c("bs_t2xz_1", "bs_t2xz_2", "bs_t2xz_3"),
            sds = c("sds_t2xz_1", "sds_t2xz_2", "sds_t2xz_3"))
)
code <- "
data {
  int N; int K; int KS; int NZ; int NB;
  vector[N] y; matrix[N, K] Xc; vector[K] means_X; matrix[N, KS] Xs; matrix[N, NZ] Z;
  int blk[NZ]; real loc; real scale;
}
parameters {
  real Intercept; vector[K] b; vector[KS] bs; vector<lower=0>[NB] sds; real<lower=0> sigma;
}
model {
  vector[NZ] v;
  matrix[N, N] S;
  vector[N] mu = Intercept + Xs * bs;
  if (K > 0) mu += Xc * b;
  for (j in 1:NZ) v[j] = square(sds[blk[j]]);
  S = diag_post_multiply(Z, v) * Z';
  for (n in 1:N) S[n, n] += square(sigma);
  y ~ multi_normal_cholesky(mu, cholesky_decompose(S));
  Intercept ~ student_t(3, loc, scale);
  sds ~ student_t(3, 0, scale);
  sigma ~ student_t(3, 0, scale);
}
generated quantities {
  real b_Intercept = K > 0 ? Intercept - dot_product(means_X, b) : Intercept;
}
"
model <- stan_model(model_code = code)
out <- list()
for (name in names(specs)) {
  spec <- specs[[name]]
  std <- ref$bases[[spec$basis]]$standata
  d <- read.csv(file.path("tests/data/smooth", paste0(ref$bases[[spec$basis]]$data, ".csv")))
  X <- as.matrix(std$X)[, -1, drop = FALSE]
  means <- colMeans(X)
  Xc <- sweep(X, 2, means)
  zs <- grep("^Zs_", names(std), value = TRUE)
  Z <- do.call(cbind, lapply(zs, function(k) as.matrix(std[[k]])))
  blk <- rep(seq_along(zs), sapply(zs, function(k) ncol(as.matrix(std[[k]]))))
  t0 <- Sys.time()
  fit <- sampling(model, data = list(
    N = nrow(d), K = ncol(X), KS = ncol(as.matrix(std$Xs)), NZ = ncol(Z), NB = length(zs),
    y = d$y, Xc = Xc, means_X = as.array(means), Xs = as.matrix(std$Xs), Z = Z,
    blk = as.array(blk), loc = spec$loc, scale = spec$scale),
    seed = 1, chains = 4, iter = 2000, warmup = 1000, cores = 2, refresh = 0)
  seconds <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  dr <- as_draws_df(fit)
  stan_names <- c("b_Intercept", if (ncol(X)) paste0("b[", seq_len(ncol(X)), "]"),
                  paste0("bs[", seq_along(spec$bs), "]"), paste0("sds[", seq_along(zs), "]"),
                  "sigma")
  s <- draws_summary(dr, stan_names)
  s$variable <- c("b_Intercept", spec$b, spec$bs, spec$sds, "sigma")
  out[[name]] <- list(seconds = seconds, divergences = get_num_divergent(fit),
                      summary = as.data.frame(s))
  print(s)
  cat(sprintf("%s: %.1f s; %d divergent\n", name, seconds, get_num_divergent(fit)))
}
write_json(out, "tests/reference/stan_smooth_marginal.json", auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
