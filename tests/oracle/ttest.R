# ttest.R - paired t oracle: for each CSV (columns x, y)
# t.test(x, y, paired = TRUE): mean difference, CI, t, df, p, and
# Cohen's d_z = mean / sd of the differences.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  s <- t.test(d$x, d$y, paired = TRUE)
  dif <- d$x - d$y
  put(k, "test", c(s$estimate, s$conf.int, s$statistic, s$parameter,
                   s$p.value, mean(dif) / sd(dif)))
}
