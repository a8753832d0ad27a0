# fisher.R - Fisher oracle: for each CSV (columns a, b, c, d: the table
# {{a, b}, {c, d}}), per row fisher.test(matrix(c(a, c, b, d), 2))$p.value.
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "common.R"))

for (k in seq_along(oracle_files())) {
  d <- read.csv(oracle_files()[k])
  p <- sapply(seq_len(nrow(d)), function(i)
    fisher.test(matrix(c(d$a[i], d$c[i], d$b[i], d$d[i]), 2))$p.value)
  put(k, "p", p)
}
