# brms 2.18 reference for the data of Gaussian-process terms gp() and their default
# length-scale priors: writes tests/reference/brms_gp.json from the data of
# tests/simulate_smooth.py (tests/data/smooth/<name>.csv; column g read as a factor).
# No model is sampled or compiled (make_standata, get_prior and brm(empty = TRUE) only).
#
# For each spec under "specs" (name -> data, formula, var):
#   "standata": make_standata()'s GP entries, i.e. every name matching
#     Xgp|Mgp|slambda|NBgp|Dgp|Kgp|Ngp|Nsubgp|Jgp|Igp|Cgp (matrices as lists of rows,
#     vectors as arrays, scalars as numbers);
#   "grid": a 7-point grid of new data (the spec's var from its min to its max, other
#     numeric columns at their mean, factors at their first level);
#   "newdata": the same entries from standata(brm(..., empty = TRUE), newdata = grid)
#     (these include brms's Xgp_*_old copies of the fitted data's Xgp);
#   "basis": brms's internal standata_basis() of the fitted data (dmax_*, cmeans_*,
#     Xgp_* after scaling and before centring), which brms stores to handle new data;
#   "get_prior": print(get_prior()) as lines (gaussian family);
#   or "error": the message, where brms refuses the formula.
# "prior_cases": the default lscale prior brms prints (the lscale coef row of get_prior) for
#   y ~ gp(x, scale = FALSE) on small data sets x (solutions of brms's nleqslv for other
#   ratios of largest to smallest distance, and the normal(0, 0.5) fallback).
#
# Run from the project root (about a minute, one core):
#   Rscript tools/brms_gp_reference.R
# Existing entries of the JSON are kept; delete the file (or an entry) to recompute.
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
source("tools/reference_helpers.R")
rstan::rstan_options(boost_lib = "/usr/include")

data_dir <- "tests/data/smooth"
out_file <- "tests/reference/brms_gp.json"

read_data <- read_smooth_data

gp_pattern <- "^(Xgp|Mgp|slambda|NBgp|Dgp|Kgp|Ngp|Nsubgp|Jgp|Igp|Cgp|dmax|cmeans)"

gp_data <- function(sd) {
  keep <- grep(gp_pattern, names(sd), value = TRUE)
  out <- list()
  for (k in keep) {
    v <- sd[[k]]
    if (is.matrix(v)) {
      out[[k]] <- rows_of(v)
    } else if (length(dim(v)) > 1L || length(v) != 1L || !is.null(dim(v))) {
      out[[k]] <- I(unname(as.vector(v)))
    } else {
      out[[k]] <- unname(as.vector(v))
    }
  }
  out
}

specs <- list(
  gp = list(data = "gp", formula = "y ~ gp(x)", var = "x"),
  gp_approx = list(data = "gp", formula = "y ~ gp(x, k = 20, c = 5/4)", var = "x"),
  gp_noscale = list(data = "gp", formula = "y ~ gp(x, scale = FALSE)", var = "x"),
  gp_noscale_approx = list(data = "gp", formula = "y ~ gp(x, k = 20, c = 5/4, scale = FALSE)",
                           var = "x"),
  gp_2d = list(data = "surface", formula = "y ~ gp(x, z)", var = "x"),
  gp_2d_aniso = list(data = "surface", formula = "y ~ gp(x, z, iso = FALSE)", var = "x"),
  gp_2d_approx = list(data = "surface", formula = "y ~ gp(x, z, k = 5, c = 5/4)", var = "x"),
  gp_by = list(data = "byfactor", formula = "y ~ gp(x, by = g) + g", var = "x"),
  # brms 2.18 has no default for c (it stops), so the by-approximation is also run with c = 5/4
  gp_by_approx = list(data = "byfactor", formula = "y ~ gp(x, by = g, k = 10) + g", var = "x"),
  gp_by_approx_c = list(data = "byfactor", formula = "y ~ gp(x, by = g, k = 10, c = 5/4) + g",
                        var = "x"),
  gp_bynum = list(data = "surface", formula = "y ~ gp(x, by = z)", var = "x"),
  gp_nogr = list(data = "gp", formula = "y ~ gp(x, gr = FALSE)", var = "x")
)

out <- if (file.exists(out_file)) fromJSON(out_file, simplifyVector = FALSE) else list()
out$brms_version <- as.character(packageVersion("brms"))
save <- function() write_json(out, out_file, auto_unbox = TRUE, digits = NA, pretty = TRUE)

for (name in names(specs)) {
  if (!is.null(out$specs[[name]])) next
  spec <- specs[[name]]
  cat("== gp", name, "==\n")
  d <- read_data(spec$data)
  f <- eval(parse(text = spec$formula))
  res <- list(data = spec$data, formula = spec$formula, var = spec$var)
  res <- tryCatch({
    res$standata <- gp_data(make_standata(f, data = d))
    empty <- brm(f, data = d, empty = TRUE)
    grid <- grid_for(d, spec$var, 7)
    res$grid <- grid
    res$newdata <- gp_data(standata(empty, newdata = grid))
    basis <- brms:::standata_basis(brms:::brmsterms(empty$formula), data = empty$data)
    res$basis <- gp_data(basis$dpars$mu$gp)
    pr <- get_prior(f, data = d, family = gaussian())
    res$get_prior <- I(capture.output(print(pr)))
    res
  }, error = function(e) { res$error <- conditionMessage(e); res })
  out$specs[[name]] <- res
  save()
}

prior_cases <- list(
  c(0, 0.5, 1), c(0, 0.25, 0.5, 0.75, 1), c(0, 1), c(0, 0.9, 1), c(0, 0.995, 1),
  c(0, 0.5001, 1), c(0, 2, 3.7, 3.75), c(0, 1, 1, 2)
)
if (is.null(out$prior_cases)) {
  out$prior_cases <- lapply(prior_cases, function(x) {
    d <- data.frame(x = x, y = seq_along(x))
    pr <- suppressWarnings(get_prior(y ~ gp(x, scale = FALSE), data = d))
    list(x = I(x), prior = pr$prior[pr$class == "lscale" & pr$coef != ""])
  })
  save()
}
