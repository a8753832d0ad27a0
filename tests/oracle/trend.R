# trend.R - trend oracle: for each CSV (columns x, n, score)
# prop.trend.test(x, n, score): statistic, df, p (rows with n = 0 left
# out, as the C library does).
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  d <- d[d$n > 0, ]
  s <- prop.trend.test(d$x, d$n, d$score)
  put(k, "test", c(s$statistic, s$parameter, s$p.value))
}
