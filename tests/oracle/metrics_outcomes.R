# metrics_outcomes.R EPISODES.csv ASSESSMENTS.csv INSTRUMENTS.csv FROM TO LEVEL [BY]
# Section 6 (measurement-based care) from exports of the base tables
# (episodes joined to clients, assessments, instruments), computed
# independently in R: baseline and last re-derived here (not from the
# measure_pairs view), t.test(paired = TRUE), t.test(x), prop.test(correct
# = FALSE). Prints metric,group,at,field,value.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
e <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
a <- read.csv(args[2], stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
a$score <- as.numeric(a$score)
ins <- read.csv(args[3], stringsAsFactors = FALSE, na.strings = "")
from <- as.Date(args[4]); to <- as.Date(args[5]); level <- args[6]
by <- if (length(args) >= 7) args[7] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))

e$adm <- as.Date(e$admit_date); e$dis <- as.Date(e$discharge_date)
e <- e[e$level_of_care == level & !is.na(e$dis) & e$dis >= from & e$dis <= to &
       as.numeric(e$dis - e$adm) >= 14, ]
if (!is.na(by)) {
    e$grp <- dimension(e, by)
    e$grp[is.na(e$grp)] <- "unknown"
}
a$day <- as.Date(a$assessed_on)

# Per eligible episode: baseline and last score of one instrument (NA when none).
pairs_of <- function(name) {
    x <- merge(a[a$instrument == name, ], e[, c("episode_id", "adm", "dis")], by = "episode_id")
    b <- x[x$day >= x$adm - 7 & x$day <= x$adm + 14, ]
    b <- b[order(b$episode_id, b$assessed_on, b$assessment_id, method = "radix"), ]
    b <- b[!duplicated(b$episode_id), c("episode_id", "day", "score")]
    names(b) <- c("episode_id", "bday", "base")
    l <- merge(x, b, by = "episode_id")
    l <- l[l$day >= l$bday + 14 & l$day <= l$dis, ]
    l <- l[order(l$episode_id, l$assessed_on, l$assessment_id, method = "radix",
                 decreasing = c(FALSE, TRUE, TRUE)), ]
    l <- l[!duplicated(l$episode_id), c("episode_id", "score")]
    names(l) <- c("episode_id", "last")
    p <- merge(e[, c("episode_id", if (!is.na(by)) "grp"), drop = FALSE], b, by = "episode_id", all.x = TRUE)
    merge(p, l, by = "episode_id", all.x = TRUE)
}
share <- function(metric, group, x, n) {
    out(metric, group, "", "n", n)
    if (n == 0) { out(metric, group, "", "estimate", NA); return() }
    ci <- prop.test(x, n, correct = FALSE)$conf.int
    out(metric, group, "", "estimate", x / n)
    out(metric, group, "", "lower", ci[1]); out(metric, group, "", "upper", ci[2])
}
empty <- function(metric, group, n) { out(metric, group, "", "n", n); out(metric, group, "", "estimate", NA) }
mean_row <- function(metric, group, x, y = NULL) {
    d <- if (is.null(y)) x else x - y
    out(metric, group, "", "n", length(d))
    if (length(d) == 0) { out(metric, group, "", "estimate", NA); return() }
    out(metric, group, "", "estimate", mean(d))
    if (length(d) < 2 || sd(d) == 0) { out(metric, group, "", "lower", NA); return() }
    t <- if (is.null(y)) t.test(x) else t.test(x, y, paired = TRUE)
    out(metric, group, "", "lower", t$conf.int[1]); out(metric, group, "", "upper", t$conf.int[2])
    if (!is.null(y)) {
        out(metric, group, "", "statistic", t$statistic); out(metric, group, "", "df", t$parameter)
        out(metric, group, "", "p_value", t$p.value)
    }
}
figures <- function(p, group, i) {
    pre <- tolower(i$name); m <- function(s) paste0(pre, "_", s)
    both <- p[!is.na(p$base) & !is.na(p$last), ]
    n <- nrow(both); d <- both$last - both$base
    share(m("measured_share"), group, n, nrow(p))
    mean_row(m("baseline_mean"), group, both$base)
    mean_row(m("last_mean"), group, both$last)
    mean_row(m("change"), group, both$last, both$base)
    if (i$name %in% c("AUDIT", "DAST10")) return()
    out(m("dz"), group, "", "n", n)
    out(m("dz"), group, "", "estimate", if (n >= 2 && sd(d) > 0) mean(d) / sd(d) else NA)
    g <- if (i$better == "lower") -d else d
    rci <- !is.na(i$norm_sd) && !is.na(i$reliability)
    z <- if (rci) g / (i$norm_sd * sqrt(2 * (1 - i$reliability))) else rep(NA, n)
    if (rci) { share(m("reliable_improvement"), group, sum(z > 1.96), n)
               share(m("reliable_deterioration"), group, sum(z < -1.96), n) }
    else { empty(m("reliable_improvement"), group, n); empty(m("reliable_deterioration"), group, n) }
    if (!is.na(i$fixed_improvement)) share(m("reliable_improvement_fixed"), group, sum(g >= i$fixed_improvement), n)
    else empty(m("reliable_improvement_fixed"), group, n)
    if (i$better != "lower" || is.na(i$caseness)) {
        for (s in c("response", "remission", "clinically_significant")) empty(m(s), group, n)
        return()
    }
    k <- both$base >= i$caseness; nk <- sum(k)
    share(m("response"), group, sum(both$last[k] <= both$base[k] / 2), nk)
    if (!is.na(i$remission_below)) share(m("remission"), group, sum(both$last[k] < i$remission_below), nk)
    else empty(m("remission"), group, nk)
    if (rci) share(m("clinically_significant"), group, sum(both$last[k] < i$caseness & z[k] > 1.96), nk)
    else empty(m("clinically_significant"), group, nk)
}
for (k in seq_len(nrow(ins))) {
    i <- ins[k, ]
    if (!(i$name %in% c("PHQ9", "GAD7", "BAM_USE", "BAM_RISK", "BAM_PROTECT", "AUDIT", "DAST10"))) next
    p <- pairs_of(i$name)
    figures(p, "all", i)
    if (!is.na(by))
        for (v in sort(unique(p$grp), method = "radix")) figures(p[p$grp == v, ], v, i)
}
