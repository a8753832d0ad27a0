# logrank.R - log-rank oracle: for each CSV (columns time, event, group)
# survdiff(Surv(time, event) ~ group): statistic, df, p, and per group
# (in increasing group number) observed and expected events.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(survival))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  d$group <- factor(d$group, levels = sort(unique(d$group)))
  s <- survdiff(Surv(time, event) ~ group, data = d)
  df <- sum(s$exp > 0) - 1
  put(k, "test", c(s$chisq, df, pchisq(s$chisq, df, lower.tail = FALSE)))
  put(k, "groups", as.integer(levels(d$group)))
  put(k, "obs", s$obs)
  put(k, "exp", s$exp)
}
