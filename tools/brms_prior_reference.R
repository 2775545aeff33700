# brms 2.18 validate_prior() texts for the user-prior test cases.
# Usage: Rscript tools/brms_prior_reference.R tests/data/priors/cases.json ../shared/data tests/reference/validate_prior.json
suppressPackageStartupMessages({library(brms); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyDataFrame = FALSE)
shared <- args[2]; out <- args[3]
load_data <- function(spec) {
  kind <- sub(":.*", "", spec); name <- sub(".*:", "", spec)
  if (kind == "family") {
    d <- read.csv(file.path("tests/data/families", paste0(name, ".csv"))); d$g <- factor(d$g); return(d)
  }
  if (name %in% c("sleep_full")) {
    d <- read.csv("bayesml/data/sleepstudy.csv"); d$Subject <- factor(d$Subject); return(d)
  }
  if (name == "rats") { d <- read.csv(file.path(shared, "rats.csv")); d$batch <- factor(d$batch); return(d) }
  if (name == "mathach_glp_int") {
    d <- merge(read.csv(file.path(shared, "mathachieve.csv")), read.csv(file.path(shared, "mathachieveschool.csv")), by = "school")
    return(d)
  }
  stop(spec)
}
res <- list()
for (cs in cases) {
  d <- load_data(cs$data)
  ps <- NULL
  for (p in cs$priors) {
    one <- set_prior(p$prior, class = p$class,
                     coef = if (is.null(p$coef)) "" else p$coef,
                     group = if (is.null(p$group)) "" else p$group,
                     lb = if (is.null(p$lb)) NA else p$lb,
                     ub = if (is.null(p$ub)) NA else p$ub)
    ps <- if (is.null(ps)) one else ps + one
  }
  f <- brmsformula(as.formula(cs$formula), family = brmsfamily(cs$family))
  vp <- validate_prior(ps, f, data = d)
  res[[cs$name]] <- capture.output(print(vp))
}
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE), out)
