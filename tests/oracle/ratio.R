# ratio.R - ratio estimator oracle: for each CSV (columns y, x, cluster)
# svyratio(~y, ~x, svydesign(ids = ~cluster, data = d)): estimate, SE and
# confint() (normal quantile).
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(survey))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  des <- suppressWarnings(svydesign(ids = ~cluster, data = d))
  r <- svyratio(~y, ~x, des)
  put(k, "ratio", c(coef(r), SE(r), confint(r)))
}
