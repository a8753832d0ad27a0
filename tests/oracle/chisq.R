# chisq.R - chi-square oracle: for each CSV (a table of counts, no header)
# chisq.test(m, correct = FALSE): statistic, df, p, and the expected
# counts row by row.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

for (k in seq_along(oracle_files())) {
  m <- as.matrix(read.csv(oracle_files()[k], header = FALSE))
  s <- suppressWarnings(chisq.test(m, correct = FALSE))
  put(k, "test", c(s$statistic, s$parameter, s$p.value))
  put(k, "expected", as.vector(t(s$expected)))
}
