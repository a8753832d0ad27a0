# metrics_completion.R FACTS.csv FROM TO LEVEL: completion figures from an
# export of episode_facts, computed independently in R (prop.test,
# chisq.test, fisher.test, prop.trend.test). Prints metric,group,at,field,value.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
e <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "")
from <- as.Date(args[2]); to <- as.Date(args[3]); level <- args[4]
by <- if (length(args) >= 5) args[5] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))
e <- e[e$level_of_care == level & !is.na(e$discharge_date), ]
e$dis <- as.Date(e$discharge_date)
e <- e[e$dis >= from & e$dis <= to, ]
share <- function(metric, group, x, n, at = "") {
    out(metric, group, at, "n", n)
    if (n == 0) { out(metric, group, at, "estimate", NA); return() }
    ci <- prop.test(x, n, correct = FALSE)$conf.int
    out(metric, group, at, "estimate", x / n)
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}
figures <- function(d, group) {
    done <- d$discharge_reason == "completed"
    share("completion_rate", group, sum(done), nrow(d))
    elig <- !(d$discharge_reason %in% c("transferred", "incarcerated", "death"))
    share("completion_rate_eligible", group, sum(done), sum(elig))
    ym <- substr(d$discharge_date, 1, 7)
    months <- sort(unique(ym))
    k0 <- as.integer(substr(args[2], 1, 4)) * 12 + as.integer(substr(args[2], 6, 7))
    x <- n <- k <- c()
    for (m in months) {
        share("completion_trend", group, sum(done[ym == m]), sum(ym == m), m)
        x <- c(x, sum(done[ym == m])); n <- c(n, sum(ym == m))
        k <- c(k, as.integer(substr(m, 1, 4)) * 12 + as.integer(substr(m, 6, 7)) - k0 + 1)
    }
    if (length(n) >= 2 && sum(x) > 0 && sum(x) < sum(n)) {
        t <- suppressWarnings(prop.trend.test(x, n, score = k))
        out("completion_trend", group, "", "statistic", t$statistic)
        out("completion_trend", group, "", "p_value", t$p.value)
    }
}
figures(e, "all")
if (!is.na(by)) {
    g <- dimension(e, by)
    for (v in sort(unique(g), method = "radix")) figures(e[g == v, ], v)
    tab <- table(factor(g), factor(e$discharge_reason == "completed", levels = c(TRUE, FALSE)))
    if (nrow(tab) >= 2 && min(colSums(tab)) == 0) {
        # every group at 0% or 100%: nothing to test (chisq.test gives NaN,
        # fisher.test a p of 1); iopstat says "not estimable"
        out("completion_test", "all", "", "statistic", NA)
        out("completion_test", "all", "", "p_value", NA)
    } else if (nrow(tab) >= 2) {
        ch <- suppressWarnings(chisq.test(tab, correct = FALSE))
        if (nrow(tab) == 2 && min(ch$expected) < 5) {
            out("completion_test", "all", "", "p_value", fisher.test(tab)$p.value)
        } else {
            out("completion_test", "all", "", "statistic", ch$statistic)
            out("completion_test", "all", "", "df", ch$parameter)
            out("completion_test", "all", "", "p_value", ch$p.value)
        }
    }
}
