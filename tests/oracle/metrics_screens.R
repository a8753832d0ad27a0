# metrics_screens.R EPISODES.csv SCREENS.csv FOLLOWUPS.csv FROM TO LEVEL [BY]:
# the figures of metrics.md sections 7 and 8 computed independently in R
# from the base tables: survey::svyratio for uds_negative, prop.test for
# the follow-up shares, t.test for the mean ratings.
# Prints metric,group,at,field,value.
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
rd <- function(f) read.csv(f, stringsAsFactors = FALSE, na.strings = "", colClasses = "character")
e <- rd(args[1]); u <- rd(args[2]); f <- rd(args[3])
from <- as.Date(args[4]); to <- as.Date(args[5]); level <- args[6]
by <- if (length(args) >= 7) args[7] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))

e <- e[e$level_of_care == level, ]
e$a <- as.Date(e$admit_date); e$d <- as.Date(e$discharge_date)
u$date <- as.Date(u$collected_on)
f$date <- as.Date(f$contacted_on)
for (v in c("reached", "abstinent", "employed_or_school", "stable_housing", "satisfaction"))
    f[[v]] <- as.numeric(f[[v]])

ratio <- function(metric, group, y, x, cl, at = "") {
    out(metric, group, at, "n", sum(x))
    if (length(x) == 0 || sum(x) == 0) { out(metric, group, at, "estimate", NA); return() }
    if (length(unique(cl)) < 2) {
        out(metric, group, at, "estimate", sum(y) / sum(x))
        out(metric, group, at, "lower", NA); out(metric, group, at, "upper", NA)
        return()
    }
    r <- svyratio(~y, ~x, svydesign(ids = ~cl, data = data.frame(y = y, x = x, cl = cl)))
    ci <- confint(r)
    out(metric, group, at, "estimate", coef(r))
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}
share <- function(metric, group, x, n) {
    out(metric, group, "", "n", n)
    if (n == 0) { out(metric, group, "", "estimate", NA); return() }
    ci <- suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int
    out(metric, group, "", "estimate", x / n)
    out(metric, group, "", "lower", ci[1]); out(metric, group, "", "upper", ci[2])
}
rating <- function(metric, group, at, x) {
    out(metric, group, at, "n", length(x))
    if (length(x) == 0) { out(metric, group, at, "estimate", NA); return() }
    out(metric, group, at, "estimate", mean(x))
    if (length(x) < 2 || sd(x) == 0) {
        out(metric, group, at, "lower", NA); out(metric, group, at, "upper", NA); return()
    }
    ci <- t.test(x)$conf.int
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}

screens <- function(eg, group) {
    ep <- eg[eg$a <= to & (is.na(eg$d) | eg$d >= from), ]
    S <- merge(u, ep[, c("episode_id", "client_id", "a", "d", "moud")], by = "episode_id")
    S <- S[S$date >= from & S$date <= to & S$date >= S$a &
           S$date <= pmin(S$d, to, na.rm = TRUE), ]
    covered <- function(subs, moud) {
        if (is.na(subs) || !(moud %in% c("buprenorphine", "methadone"))) return(FALSE)
        parts <- strsplit(subs, ";", fixed = TRUE)[[1]]
        parts <- parts[parts != ""]
        length(parts) > 0 && all(parts == "opioids")
    }
    neg <- S$result == "negative" |
        (S$result == "positive" &
         vapply(seq_len(nrow(S)), function(i) covered(S$substances[i], S$moud[i]), logical(1)))
    ratio("uds_negative", group, as.numeric(neg), rep(1, nrow(S)), S$client_id)
    week <- as.integer(floor(as.numeric(S$date - S$a) / 7)) + 1
    for (k in 1:12)
        ratio("uds_negative", group, as.numeric(neg[week == k]), rep(1, sum(week == k)),
              S$client_id[week == k], at = as.character(k))
}

# The first reached contact on days lo..hi after each discharge whose
# window closed (discharge in [from - hi, to - hi]); NULL row where none.
first_contact <- function(eg, lo, hi) {
    ix <- eg[!is.na(eg$d) & eg$d >= from - hi & eg$d <= to - hi, ]
    rows <- lapply(seq_len(nrow(ix)), function(i) {
        m <- f[f$episode_id == ix$episode_id[i] & f$reached == 1 &
               f$date >= ix$d[i] + lo & f$date <= ix$d[i] + hi, ]
        if (nrow(m) == 0) return(NULL)
        m[order(m$date, m$followup_id, method = "radix")[1], ]
    })
    list(n = nrow(ix), first = do.call(rbind, rows))
}

followup <- function(eg, group) {
    for (w in list(list("30d", 23, 37), list("90d", 76, 104))) {
        fc <- first_contact(eg, w[[2]], w[[3]])
        r <- fc$first; nr <- if (is.null(r)) 0 else nrow(r)
        share(paste0("followup_reach_", w[[1]]), group, nr, fc$n)
        for (item in list(c("abstinent", "abstinent"), c("employed", "employed_or_school"),
                          c("housed", "stable_housing"))) {
            v <- if (nr) r[[item[2]]] else numeric(); v <- v[!is.na(v)]
            share(paste0(item[1], "_", w[[1]]), group, sum(v == 1), length(v))
        }
        s <- if (nr) r$satisfaction else numeric()
        rating("satisfaction_mean", group, w[[1]], s[!is.na(s)])
    }
    fc <- first_contact(eg, 0, 7)
    s <- if (is.null(fc$first)) numeric() else fc$first$satisfaction
    rating("satisfaction_at_discharge", group, "", s[!is.na(s)])
}

figures <- function(eg, group) { screens(eg, group); followup(eg, group) }
figures(e, "all")
if (!is.na(by)) {
    g <- dimension(e, by)
    live <- e$a <= to & (is.na(e$d) | e$d >= from)
    for (v in sort(unique(g[live]), method = "radix")) figures(e[g == v, ], v)
}
