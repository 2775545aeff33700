# lme4 reference for the scale cases (data from `python -m tests.simulate_scale DIR`, by
# default /tmp/bayesml-scale): REML fits of the 75k-row crossed model
#   y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service)   (crossed_75k.csv)
# and of the 1M-row random-intercept model y ~ x + (1 | g) (ri_1m.csv). Writes
# tests/reference/lme4_scale.json: per model the fixed effects, the standard deviations of
# every varying effect and sigma (as VarCorr prints them), the number of levels, the wall time
# of lmer() and R's peak memory (gc()'s "max used", MB).
#   Rscript tools/lme4_scale_reference.R [DIR]   (from the project root)
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "/tmp/bayesml-scale"

fit_one <- function(file, formula, factors) {
  d <- read.csv(file.path(dir, file), stringsAsFactors = TRUE)
  for (f in factors) d[[f]] <- factor(d[[f]])
  invisible(gc(reset = TRUE))
  t0 <- Sys.time()
  m <- lmer(formula, data = d, REML = TRUE)
  secs <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
  mem <- gc()
  vc <- as.data.frame(VarCorr(m))
  sds <- setNames(as.list(vc$sdcor), ifelse(is.na(vc$var1), vc$grp, paste(vc$grp, vc$var1, sep = "__")))
  list(
    formula = paste(deparse(formula), collapse = ""),
    rows = nrow(d),
    fixef = as.list(fixef(m)),
    fixef_se = as.list(sqrt(diag(as.matrix(vcov(m))))),
    sd = sds,
    levels = as.list(sapply(ranef(m), nrow)),
    seconds = secs,
    max_used_mb = sum(mem[, ncol(mem)])
  )
}

out <- list(
  crossed_75k = fit_one("crossed_75k.csv", y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service),
                        c("s", "d", "dept", "service")),
  ri_1m = fit_one("ri_1m.csv", y ~ x + (1 | g), c("g"))
)
write_json(out, "tests/reference/lme4_scale.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
str(out)
