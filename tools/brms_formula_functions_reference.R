# brms 2.18 get_prior() texts and population-level design matrices (make_standata's X, with
# its column names) for R's formula functions: factor(), I(x^2), poly(x, 2), scale(x),
# log/exp/sqrt of expressions, and factor() in an interaction. Data: sleepstudy with
# k = Days %% 3 + 1 (whole numbers 1..3) and z = Days + 1 (built the same way in
# tests/test_formula_functions.py).
#   Rscript tools/brms_formula_functions_reference.R   (from the project root; writes
#   tests/reference/brms_formula_functions.json; run 2026-11-28)
suppressPackageStartupMessages({library(brms); library(jsonlite)})
source("tools/reference_helpers.R")
s <- read.csv("data/sleepstudy.csv")
s$Subject <- factor(s$Subject)
s$k <- s$Days %% 3 + 1
s$z <- s$Days + 1
formulas <- c(
  factor = "Reaction ~ factor(k) + (1 | Subject)",
  power = "Reaction ~ Days + I(Days^2) + (1 | Subject)",
  poly = "Reaction ~ poly(Days, 2) + (1 | Subject)",
  scale = "Reaction ~ scale(Days) + (1 | Subject)",
  functions = "Reaction ~ log(z) + exp(Days / 10) + sqrt(z)",
  factor_interaction = "Reaction ~ factor(k) * Days"
)
res <- lapply(formulas, function(f) {
  fo <- as.formula(f)
  sd <- make_standata(fo, s)
  list(
    formula = f,
    get_prior = capture.output(print(get_prior(fo, s))),
    X_names = colnames(sd$X),
    X = rows_of(sd$X)
  )
})
writeLines(toJSON(res, pretty = TRUE, digits = NA, auto_unbox = TRUE),
           "tests/reference/brms_formula_functions.json")
