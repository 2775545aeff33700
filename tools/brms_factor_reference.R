# brms 2.18 get_prior() texts for R's factor semantics: a factor whose level order is not
# alphabetical, text sorted as R sorts it, an ordered factor (polynomial contrasts) and brms's
# `0 + Intercept`. Data: sleepstudy with derived columns (built the same way in
# tests/test_columns.py).
#   Rscript tools/brms_factor_reference.R     (from the project root; writes
#   tests/reference/brms_factor_priors.json; run 2026-11-28)
suppressPackageStartupMessages({library(brms); library(jsonlite)})
s <- read.csv("bayesml/data/sleepstudy.csv")
s$Subject <- factor(s$Subject)
band <- cut(s$Days, c(-1, 2, 5, 9), labels = c("lo", "mid", "hi"))
s$o <- factor(band, levels = c("lo", "mid", "hi"), ordered = TRUE)
s$f <- factor(band, levels = c("mid", "hi", "lo"))            # first level "mid": the reference
s$t <- c("b", "A", "a")[(s$Days %% 3) + 1]                    # text: R sorts a, A, b
res <- list(
  ordered = capture.output(print(get_prior(Reaction ~ o + (1 | Subject), s))),
  relevelled = capture.output(print(get_prior(Reaction ~ f + (1 | Subject), s))),
  text = capture.output(print(get_prior(Reaction ~ t + (1 | Subject), s))),
  zero_intercept = capture.output(print(get_prior(Reaction ~ 0 + Intercept + Days + (1 | Subject), s))),
  ordered_interaction = capture.output(print(get_prior(Reaction ~ o * Days, s)))
)
writeLines(toJSON(res, pretty = TRUE), "tests/reference/brms_factor_priors.json")
