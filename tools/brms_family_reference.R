# brms 2.18 prior tables and summary header lines for the family test cases.
# Usage: Rscript tools/brms_family_reference.R tests/data/families tests/reference/families.json
suppressPackageStartupMessages({library(brms); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]; out <- args[2]
cases <- fromJSON(file.path(dir, "cases.json"), simplifyDataFrame = FALSE)
res <- list()
for (cs in cases) {
  d <- read.csv(file.path(dir, paste0(cs$data, ".csv")))
  d$g <- factor(d$g)
  fam <- if (is.null(cs$link)) brmsfamily(cs$family) else brmsfamily(cs$family, link = cs$link)
  f <- brmsformula(as.formula(cs$formula), family = fam)
  gp <- get_prior(f, data = d)
  res[[cs$name]] <- list(
    get_prior = capture.output(print(gp)),
    family_line = brms:::summarise_families(f),
    links_line = brms:::summarise_links(f, wsp = 9)
  )
}
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE), out)
