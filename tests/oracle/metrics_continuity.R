# metrics_continuity.R EPISODES.csv LEVELS.csv FROM TO LEVEL W [BY]:
# step-down and continuity figures (metrics.md section 4) computed in R from
# an export of the base episodes table (with the clients' columns) and the
# levels table. Next and previous episodes are re-derived here with order(),
# not taken from the episode_facts view. Shares: prop.test(correct = FALSE);
# quartiles: quantile(type = 7). Prints metric,group,at,field,value.
args <- commandArgs(trailingOnly = TRUE)
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "dimension.R"))
e <- read.csv(args[1], stringsAsFactors = FALSE, na.strings = "",
              colClasses = c(episode_id = "character", client_id = "character",
                             level_of_care = "character"))  # "1.0" stays "1.0"
lv <- read.csv(args[2], stringsAsFactors = FALSE, colClasses = c(code = "character"))
from <- as.Date(args[3]); to <- as.Date(args[4]); level <- args[5]
W <- as.integer(args[6])
by <- if (length(args) >= 7) args[7] else NA
out <- function(metric, group, at, field, value)
    cat(sprintf("%s,%s,%s,%s,%s\n", metric, group, at, field,
                if (is.na(value)) "NA" else format(value, digits = 17)))
share <- function(metric, group, x, n, at = "") {
    out(metric, group, at, "n", n)
    if (n == 0) { out(metric, group, at, "estimate", NA); return(invisible()) }
    ci <- prop.test(x, n, correct = FALSE)$conf.int
    out(metric, group, at, "estimate", x / n)
    out(metric, group, at, "lower", ci[1]); out(metric, group, at, "upper", ci[2])
}

# As of `to`: nothing admitted later exists, a later discharge is open.
e$adm <- as.Date(e$admit_date); e$dis <- as.Date(e$discharge_date)
raw_dis <- e$dis
groups_of <- function(d, rd) {
    if (is.na(by)) rep("all", nrow(d)) else dimension(d, by)
}
e$g <- groups_of(e)
# The frame's groups: the level's episodes that overlap the period.
listed <- sort(unique(e$g[e$level_of_care == level & e$adm <= to &
                          (is.na(raw_dis) | raw_dis >= from)]), method = "radix")
e <- e[e$adm <= to, ]
e$dis[!is.na(e$dis) & e$dis > to] <- NA
m <- match(e$level_of_care, lv$code)
e$int <- lv$intensity[m]; e$wm <- lv$wm[m]; e$num <- lv$number[m]
e <- e[order(e$client_id, e$adm, -e$int, e$episode_id, method = "radix"), ]
n <- nrow(e)
same <- c(e$client_id[-1] == e$client_id[-n], FALSE)
ni <- ifelse(same, seq_len(n) + 1L, NA)            # the following episode
pi <- c(NA, ifelse(same[-n], seq_len(n - 1), NA))   # the episode before
has_next <- function(X) !is.na(ni) & !is.na(e$dis) & (e$adm[ni] <= e$dis + X) %in% TRUE
in_win <- function(d, X) !is.na(d) & d >= from - X & d <= to - X

figures <- function(sel, group) {
    # transition_count and days_to_next_level_median: discharges in the
    # shifted window with a next episode within W
    t <- which(sel & in_win(e$dis, W) & has_next(W))
    if (length(t) == 0) share("transition_count", group, 0, 0)
    for (a in sort(unique(e$level_of_care[t]), method = "radix")) {
        ta <- t[e$level_of_care[t] == a]
        for (b in sort(unique(e$level_of_care[ni[ta]]), method = "radix"))
            share("transition_count", group, sum(e$level_of_care[ni[ta]] == b),
                  length(ta), paste0(a, ">", b))
    }
    # iop_admit_stepdown: previous episode = the one before whose next is this
    a <- which(sel & e$level_of_care == level & e$adm >= from & e$adm <= to)
    hp <- !is.na(pi[a]) & !is.na(e$dis[pi[a]]) & (e$adm[a] <= e$dis[pi[a]] + W) %in% TRUE
    share("iop_admit_stepdown", group, sum(hp & e$int[pi[a]] > e$int[a]), length(a))
    d <- which(sel & e$level_of_care == level & in_win(e$dis, W))
    hn <- has_next(W)[d]
    dint <- e$int[ni[d]]
    share("iop_discharge_stepdown", group, sum(hn & dint < e$int[d]), length(d))
    share("iop_discharge_stepup", group, sum(hn & dint > e$int[d]), length(d))
    share("iop_discharge_lateral", group, sum(hn & dint == e$int[d]), length(d))
    share("iop_discharge_no_continuing_care", group, sum(!hn), length(d))
    for (X in c(7, 14, 30)) {
        p <- which(sel & (e$wm == 1 | (e$num >= 3 & e$num < 4)) & in_win(e$dis, X))
        ok <- has_next(X)[p] & ifelse(e$wm[p] == 1, e$wm[ni[p]] == 0,
                                      e$int[ni[p]] < e$int[p])
        share(sprintf("continuity_%dd", X), group, sum(ok %in% TRUE), length(p))
    }
    gaps <- pmax(0, as.numeric(e$adm[ni[t]] - e$dis[t]))
    out("days_to_next_level_median", group, "", "n", length(gaps))
    if (length(gaps) == 0) out("days_to_next_level_median", group, "", "estimate", NA)
    else {
        q <- quantile(gaps, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
        out("days_to_next_level_median", group, "", "estimate", q[2])
        out("days_to_next_level_median", group, "", "lower", q[1])
        out("days_to_next_level_median", group, "", "upper", q[3])
    }
    # readmission: a later episode of the client in the order, at the same
    # or a higher intensity, admitted by discharge + D
    for (D in c(30, 90)) {
        p <- which(sel & e$level_of_care == level & e$discharge_reason %in% "completed" &
                   in_win(e$dis, D))
        hit <- vapply(p, function(i) {
            j <- which(e$client_id == e$client_id[i] & seq_len(n) > i)
            any(e$int[j] >= e$int[i] & e$adm[j] <= e$dis[i] + D)
        }, logical(1))
        share(sprintf("readmit_%dd", D), group, sum(hit), length(p))
    }
}
figures(rep(TRUE, n), "all")
if (!is.na(by)) for (v in listed) figures(e$g == v, v)
