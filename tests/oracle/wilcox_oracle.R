# Oracle for canarystats.stats.mann_whitney: R's wilcox.test on many two-sample cases.
#
# Regenerate (from the repository root):
#   Rscript tests/oracle/wilcox_oracle.R
# It writes tests/data/wilcox_r_cases.json.  Base R only (no packages); deterministic (set.seed).
# The test suite reads the JSON and never needs R.  See tests/oracle/README.md.

set.seed(20261127)

out_path <- "tests/data/wilcox_r_cases.json"
args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1) out_path <- args[[1]]

# ---------------------------------------------------------------------------------------------
# JSON writing by hand, so that doubles round-trip exactly (%.17g) and no package is needed.
# Non-finite numbers become the strings "NaN", "Inf", "-Inf" (plain JSON has no such literals).
json_num <- function(v) {
  vapply(v, function(a) {
    if (is.na(a)) "\"NaN\"" else if (a == Inf) "\"Inf\"" else if (a == -Inf) "\"-Inf\""
    else sprintf("%.17g", as.numeric(a))
  }, "")
}
json_str <- function(s) paste0("\"", gsub("\"", "\\\\\"", gsub("\\\\", "\\\\\\\\", s)), "\"")
json_value <- function(v) {
  if (is.null(v)) return("null")
  if (inherits(v, "json_array")) {
    return(paste0("[", paste(vapply(unclass(v), json_value, ""), collapse = ", "), "]"))
  }
  if (is.list(v)) {
    keys <- names(v)
    parts <- vapply(seq_along(v), function(i) paste0(json_str(keys[[i]]), ": ", json_value(v[[i]])), "")
    return(paste0("{", paste(parts, collapse = ", "), "}"))
  }
  if (is.logical(v) && length(v) == 1) return(if (is.na(v)) "null" else if (v) "true" else "false")
  if (is.character(v) && length(v) == 1) return(json_str(v))
  if (is.numeric(v) && length(v) == 1 && !inherits(v, "AsIs")) return(json_num(v))
  if (is.numeric(v)) return(paste0("[", paste(json_num(v), collapse = ", "), "]"))
  if (is.character(v)) return(paste0("[", paste(vapply(v, json_str, ""), collapse = ", "), "]"))
  stop("cannot encode ", class(v))
}
arr <- function(v) I(as.numeric(v))           # a numeric vector that stays an array in JSON
arr_list <- function(l) structure(l, class = "json_array")

# ---------------------------------------------------------------------------------------------
# The step function R inverts on the asymptotic path.  This is W() from the body of
# stats:::wilcox.test.default (R 4.2), copied so that we can evaluate it at chosen points:
# the standardised, tie-corrected, continuity-corrected statistic of (x - d, y).
W_step <- function(d, x, y, alternative, correct) {
  n.x <- length(x); n.y <- length(y)
  dr <- rank(c(x - d, y))
  NTIES.CI <- table(dr)
  dz <- sum(dr[seq_along(x)]) - n.x * (n.x + 1) / 2 - n.x * n.y / 2
  CORRECTION.CI <- if (correct) {
    switch(alternative, two.sided = sign(dz) * 0.5, greater = 0.5, less = -0.5)
  } else 0
  SIGMA.CI <- sqrt((n.x * n.y / 12) * ((n.x + n.y + 1) - sum(NTIES.CI^3 - NTIES.CI) /
                                         ((n.x + n.y) * (n.x + n.y - 1))))
  (dz - CORRECTION.CI) / SIGMA.CI
}

# The pairwise difference at which W_step(d) - zq changes sign, following R's root(): the
# bracket ends mumin/mumax are returned as R returns them; otherwise W_step is constant between
# consecutive distinct pairwise differences D_k, so the root uniroot() approximates is the D_k at
# which the sign changes.  We evaluate the sign at every D_k and at one point inside every gap, so
# no step is missed.  Returns the candidates (more than one only if the sign changes more than
# once, or W_step equals zq on a whole gap).
step_root <- function(x, y, zq, alternative, correct) {
  mumin <- min(x) - max(y)
  mumax <- max(x) - min(y)
  f <- function(d) W_step(d, x, y, alternative, correct) - zq
  fl <- f(mumin)
  if (is.na(fl)) return(NULL)
  if (fl <= 0) return(mumin)
  fu <- f(mumax)
  if (is.na(fu)) return(NULL)
  if (fu >= 0) return(mumax)
  diffs <- sort(unique(as.vector(outer(x, y, "-"))))
  # Differences a few ulps apart stand for the same real difference (x_i - y_j rounds), and no
  # double need lie between them: treat such a run as one step, any member of it a valid answer.
  close <- c(FALSE, diff(diffs) <= 4 * .Machine$double.eps *
                      pmax(abs(diffs[-1]), abs(diffs[-length(diffs)])))
  cluster <- cumsum(!close)
  lows <- tapply(diffs, cluster, min)
  highs <- tapply(diffs, cluster, max)
  members <- split(diffs, cluster)
  m <- length(lows)
  gap <- function(k) {   # a double strictly inside (step k, step k+1)
    a <- highs[[k]]; b <- lows[[k + 1]]
    g <- if (is.finite(a) && is.finite(b)) a / 2 + b / 2
         else if (is.finite(a)) a + max(1, abs(a)) else b - max(1, abs(b))
    if (!(g > a && g < b)) stop("no double strictly inside the gap (", a, ", ", b, ")")
    g
  }
  fg <- function(k) if (k >= m) -Inf else f(gap(k))   # gap m stands for "beyond D_m"
  # f is non-increasing in d: bisect for the first gap where f <= 0.
  lo <- 0; hi <- m        # invariant: fg(lo) > 0 (gap 0 = D_1 itself), fg(hi) <= 0
  while (hi - lo > 1) {
    mid <- (lo + hi) %/% 2
    if (fg(mid) > 0) lo <- mid else hi <- mid
  }
  # Check the monotonicity the bisection assumed, near the crossing and across the range.
  near <- max(1, hi - 4):min(m - 1, hi + 4)
  spread <- unique(round(seq(1, max(1, m - 1), length.out = min(40, max(1, m - 1)))))
  for (k in unique(c(near, spread))) {
    if (k < 1 || k >= m) next
    v <- fg(k)
    if ((k < hi && v <= 0) || (k > hi && v > 0)) stop("W step is not monotone at gap ", k)
  }
  if (hi < m && fg(hi) == 0) return(c(members[[hi]], members[[hi + 1]]))  # zero on a gap
  # Between gap hi-1 (f > 0) and gap hi (f < 0) lies exactly one step, D_hi.
  members[[hi]]
}

# ---------------------------------------------------------------------------------------------
cases <- list()

add_case <- function(id, x, y, alternative = "two.sided", conf.level = 0.95, exact = NULL,
                     correct = TRUE, mu = 0, note = "") {
  if (nzchar(Sys.getenv("ORACLE_VERBOSE"))) message(id)
  warns <- character(0)
  collect <- function(expr) {
    withCallingHandlers(expr, warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  }
  res <- tryCatch(
    collect(wilcox.test(x, y, alternative = alternative, mu = mu, exact = exact,
                        correct = correct, conf.int = TRUE, conf.level = conf.level)),
    error = function(e) e
  )
  ci_error <- NULL
  if (inherits(res, "error")) {
    # R refuses the interval (all observations tied; an infinite bracket on the asymptotic
    # path).  The statistic and p-value still exist: take them from a call without conf.int.
    ci_error <- conditionMessage(res)
    res <- collect(wilcox.test(x, y, alternative = alternative, mu = mu, exact = exact,
                               correct = correct, conf.int = FALSE))
  }
  xs <- x[!is.na(x)]
  ys <- y[!is.na(y)]
  exact_path <- grepl("exact", res$method, fixed = TRUE)
  diffs <- as.vector(outer(xs, ys, "-"))
  diffs_defined <- !any(is.nan(diffs))   # Inf - Inf: no ordering of differences exists
  hl <- if (diffs_defined) median(diffs) else NULL
  ci <- NULL; ci_level <- NULL; r_est <- NULL
  step_lo <- NULL; step_hi <- NULL
  if (is.null(ci_error)) {
    ci <- arr(res$conf.int[1:2])
    ci_level <- attr(res$conf.int, "conf.level")
    r_est <- unname(res$estimate)
  }
  if (diffs_defined) {
    if (exact_path) {
      # R's exact bounds are pairwise differences themselves.
      if (!is.null(ci)) { step_lo <- arr(res$conf.int[1]); step_hi <- arr(res$conf.int[2]) }
    } else {
      alpha <- 1 - conf.level
      lo_q <- switch(alternative, two.sided = qnorm(alpha / 2, lower.tail = FALSE),
                     greater = qnorm(alpha, lower.tail = FALSE), less = NA)
      hi_q <- switch(alternative, two.sided = qnorm(alpha / 2), greater = NA,
                     less = qnorm(alpha))
      step_lo <- if (is.na(lo_q)) arr(-Inf) else step_root(xs, ys, lo_q, alternative, correct)
      step_hi <- if (is.na(hi_q)) arr(Inf) else step_root(xs, ys, hi_q, alternative, correct)
      if (!is.null(step_lo)) step_lo <- arr(step_lo)
      if (!is.null(step_hi)) step_hi <- arr(step_hi)
      # Self-check of the oracle: R's uniroot answer lies within its tolerance of the step.
      if (!is.null(ci)) {
        tol <- 2e-4 + 1e-9 * max(abs(diffs[is.finite(diffs)]))
        if (!is.null(step_lo) && is.finite(ci[1]) && min(abs(step_lo - ci[1])) > tol)
          stop(id, ": lower step ", step_lo, " far from R's ", ci[1])
        if (!is.null(step_hi) && is.finite(ci[2]) && min(abs(step_hi - ci[2])) > tol)
          stop(id, ": upper step ", step_hi, " far from R's ", ci[2])
      }
    }
  }
  alt_py <- switch(alternative, two.sided = "two-sided", less = "less", greater = "greater")
  cases[[length(cases) + 1]] <<- list(
    id = id, note = note,
    x = arr(x), y = arr(y),
    alternative = alt_py, conf_level = conf.level,
    exact = if (is.null(exact)) NA else exact,
    correct = correct, mu = mu,
    r = list(
      statistic = unname(res$statistic),
      p_value = res$p.value,
      exact_path = exact_path,
      conf_int = ci,
      conf_level = ci_level,
      estimate = r_est,
      warnings = if (length(warns)) warns else character(0),
      ci_error = ci_error
    ),
    n_x = length(xs), n_y = length(ys),
    hl_estimate = hl,
    step_lo = step_lo,
    step_hi = step_hi
  )
  invisible(NULL)
}

ALTS <- c("two.sided", "less", "greater")

# --- exact path: no ties, both n < 50 -------------------------------------------------------
for (sz in list(c(5, 7), c(10, 12), c(20, 25), c(49, 49), c(8, 30))) {
  x <- rnorm(sz[1], 0.4); y <- rnorm(sz[2])
  for (alt in ALTS) add_case(sprintf("exact_%dv%d_%s", sz[1], sz[2], alt), x, y, alt)
}
x <- rnorm(10, 0.5); y <- rnorm(12)
for (cl in c(0.8, 0.9, 0.98, 0.99)) {
  add_case(sprintf("exact_10v12_cl%g", cl), x, y, "two.sided", cl)
  add_case(sprintf("exact_10v12_greater_cl%g", cl), x, y, "greater", cl)
}
add_case("exact_separated_above", rnorm(9, 10), rnorm(11), "two.sided")
add_case("exact_separated_below", rnorm(9, -10), rnorm(11), "less", 0.9)
add_case("exact_forced_true_60v55", rnorm(60, 0.3), rnorm(55), exact = TRUE)
add_case("exact_forced_true_60v55_less", rnorm(60, -0.1), rnorm(55), "less", exact = TRUE)

# --- asymptotic path by size (n >= 50) -------------------------------------------------------
for (sz in list(c(50, 60), c(80, 80), c(100, 50))) {
  x <- rnorm(sz[1], 0.25); y <- rnorm(sz[2])
  for (alt in ALTS) add_case(sprintf("asym_%dv%d_%s", sz[1], sz[2], alt), x, y, alt)
  add_case(sprintf("asym_%dv%d_nocorrect", sz[1], sz[2]), x, y, correct = FALSE)
}
x <- rnorm(60); y <- rnorm(70, 0.2)
for (cl in c(0.8, 0.9, 0.98, 0.99)) add_case(sprintf("asym_60v70_cl%g", cl), x, y, conf.level = cl)
add_case("asym_60v70_less_nocorrect_cl0.9", x, y, "less", 0.9, correct = FALSE)
add_case("asym_60v70_greater_nocorrect_cl0.99", x, y, "greater", 0.99, correct = FALSE)

# --- exact = FALSE forced on small samples without ties ---------------------------------------
x <- rnorm(7, 0.8); y <- rnorm(9)
for (alt in ALTS) add_case(paste0("forced_asym_7v9_", alt), x, y, alt, exact = FALSE)
add_case("forced_asym_7v9_nocorrect", x, y, exact = FALSE, correct = FALSE)
add_case("forced_asym_7v9_cl0.8", x, y, conf.level = 0.8, exact = FALSE)

# --- ties (asymptotic path whatever exact says) ----------------------------------------------
x <- round(rnorm(12, 0.5)); y <- round(rnorm(15))
for (alt in ALTS) add_case(paste0("ties_12v15_", alt), x, y, alt)
add_case("ties_12v15_nocorrect", x, y, correct = FALSE)
add_case("ties_12v15_cl0.8", x, y, conf.level = 0.8)
add_case("ties_12v15_cl0.99_less", x, y, "less", 0.99)
add_case("ties_12v15_exact_requested", x, y, exact = TRUE)
x <- round(rnorm(40, 1) * 2) / 2; y <- round(rnorm(45) * 2) / 2
for (alt in ALTS) add_case(paste0("ties_40v45_halves_", alt), x, y, alt)
add_case("ties_40v45_halves_nocorrect_cl0.9", x, y, conf.level = 0.9, correct = FALSE)
x <- sample(0:3, 70, TRUE); y <- sample(0:2, 90, TRUE)
add_case("ties_heavy_counts_70v90", x, y)
add_case("ties_heavy_counts_70v90_greater", x, y, "greater", 0.9)
add_case("ties_cross_only", c(1, 2, 3, 4, 5), c(3, 6, 7, 8), "two.sided")

# --- mu != 0 ----------------------------------------------------------------------------------
x <- rnorm(11, 1); y <- rnorm(13)
add_case("mu_exact_0.5", x, y, mu = 0.5)
add_case("mu_exact_-2_greater", x, y, "greater", mu = -2)
add_case("mu_exact_1_less", x, y, "less", mu = 1)
add_case("mu_asym_0.5", x, y, mu = 0.5, exact = FALSE)
x <- rnorm(55, 2); y <- rnorm(52)
add_case("mu_asym_55v52_1.5", x, y, mu = 1.5)
add_case("mu_asym_55v52_-1_nocorrect_less", x, y, "less", mu = -1, correct = FALSE)
add_case("mu_creates_tie", c(2, 4, 6, 8), c(1, 3, 5.5), mu = 1)   # x - mu hits y: ties

# --- tiny samples ("Requested conf.level not achievable") -------------------------------------
add_case("tiny_1v1", 1.5, 0.25)
add_case("tiny_1v1_less", 0.25, 1.5, "less")
add_case("tiny_1v5", 2.5, c(0.1, 3.2, 1.7, 4.4, 2.2))
add_case("tiny_5v1_greater", c(0.1, 3.2, 1.7, 4.4, 2.2), 0.3, "greater")
add_case("tiny_2v3", c(1.1, 2.6), c(0.4, 3.9, 2.0))
add_case("tiny_3v2_cl0.8", c(5.1, 6.6, 7.2), c(0.4, 2.0), conf.level = 0.8)
add_case("tiny_2v2_greater_cl0.8", c(3.5, 4.25), c(1, 2), "greater", 0.8)
add_case("tiny_3v3_cl0.9", c(0.3, 1.9, 2.2), c(-1.4, 0.6, 1.25), conf.level = 0.9)
add_case("tiny_4v4", c(0.3, 1.9, 2.2, 4.1), c(-1.4, 0.6, 1.25, 3.3))
add_case("tiny_2v3_forced_asym", c(1.1, 2.6), c(0.4, 3.9, 2.0), exact = FALSE)
add_case("tiny_1v5_forced_asym_less", 2.5, c(0.1, 3.2, 1.7, 4.4, 2.2), "less", exact = FALSE)

# --- very unequal sizes -----------------------------------------------------------------------
y <- rnorm(200)
add_case("unequal_3v200", c(0.5, 1.7, 2.4), y)
add_case("unequal_3v200_greater_cl0.9", c(0.5, 1.7, 2.4), y, "greater", 0.9)
add_case("unequal_200v3_less", y, c(0.5, 1.7, 2.4), "less")
add_case("unequal_2v49_exact", c(-0.2, 1.3), rnorm(49))
add_case("unequal_1v120", 0.7, rnorm(120))

# --- constant samples -------------------------------------------------------------------------
add_case("constant_both_differ", rep(5, 6), rep(3, 8))
add_case("constant_both_equal", rep(2, 5), rep(2, 7))
add_case("constant_both_equal_less", rep(2, 5), rep(2, 7), "less")
add_case("constant_canary_varied_baseline", rep(1, 10), rnorm(12, 1))
add_case("constant_baseline_varied_canary_greater", rnorm(9, 3), rep(3, 10), "greater", 0.9)
add_case("constant_single_each_equal", 4, 4)
add_case("constant_zero_rates", rep(0, 30), c(rep(0, 28), 0.01, 0.02))

# --- scales 1e-6 .. 1e9 and large offsets -----------------------------------------------------
for (sc in c(1e-6, 1e-3, 1e3, 1e6, 1e9)) {
  x <- rnorm(15, 0.6) * sc; y <- rnorm(18) * sc
  add_case(sprintf("scale_%g_exact", sc), x, y)
  x <- rnorm(60, 0.3) * sc; y <- rnorm(65) * sc
  add_case(sprintf("scale_%g_asym", sc), x, y)
  add_case(sprintf("scale_%g_asym_greater_cl0.9", sc), x, y, "greater", 0.9)
}
x <- 1e9 + rnorm(20, 2); y <- 1e9 + rnorm(22)
add_case("offset_1e9_exact", x, y)
x <- 1e9 + rnorm(60, 0.5); y <- 1e9 + rnorm(60)
add_case("offset_1e9_asym", x, y)
add_case("offset_1e9_asym_less_cl0.98", x, y, "less", 0.98)
x <- 1e-6 * round(rnorm(40, 3) * 4) / 4; y <- 1e-6 * round(rnorm(44, 2.8) * 4) / 4
add_case("error_rate_1e-6_ties", x, y)
add_case("error_rate_1e-6_ties_greater", x, y, "greater")
x <- rbinom(80, 1000, 0.004) / 1000; y <- rbinom(80, 1000, 0.003) / 1000
add_case("error_rate_proportions_80v80", x, y)
add_case("error_rate_proportions_80v80_greater_cl0.9", x, y, "greater", 0.9)
x <- rlnorm(70, 0.3, 1.5); y <- rlnorm(75, 0, 1.5)
add_case("heavy_tail_lognormal", x, y)
x <- rcauchy(30, 0.5); y <- rcauchy(33)
add_case("heavy_tail_cauchy_exact", x, y)

# --- NaN (missing): R drops NA/NaN before everything -----------------------------------------
x <- rnorm(12, 0.5); y <- rnorm(14)
x[c(2, 7)] <- NaN; y[c(1, 5, 14)] <- NaN
add_case("nan_exact", x, y)
add_case("nan_exact_less", x, y, "less", 0.9)
x <- c(rnorm(52, 0.3), NaN, NaN); y <- c(NaN, rnorm(55))
add_case("nan_asym", x, y)
x <- c(round(rnorm(15)), NaN); y <- c(NaN, round(rnorm(10)), NaN)
add_case("nan_ties", x, y, "greater")

# --- +-Inf: R keeps them (ranks).  The asymptotic interval of R fails on an infinite bracket,
# so there the expected bounds come from the step function alone (see README). ----------------
add_case("inf_canary_exact", c(1.2, 2.7, Inf, 0.4, 3.3), c(0.5, 1.5, 2.5, 3.5, -0.7, 1.1))
add_case("inf_canary_exact_greater", c(1.2, 2.7, Inf, 0.4, 3.3), c(0.5, 1.5, 2.5, 3.5),
         "greater", 0.9)
add_case("neginf_baseline_exact", rnorm(8), c(rnorm(7), -Inf))
add_case("inf_canary_asym", c(rnorm(50), Inf, Inf), rnorm(55))
add_case("inf_both_sides_opposite_asym", c(rnorm(30), -Inf), c(rnorm(30), Inf), exact = FALSE)
add_case("inf_both_sides_same", c(1, 2, Inf), c(0.5, Inf, 3))   # Inf - Inf: only U and p

# --- far tails: p-values down to ~1e-30 must keep their relative precision ----------------------
x <- rnorm(80, 5); y <- rnorm(80)
add_case("tail_asym_separated_80v80", x, y)
add_case("tail_asym_separated_80v80_less", x, y, "less")
add_case("tail_asym_separated_80v80_nocorrect_greater", x, y, "greater", correct = FALSE)
add_case("tail_exact_separated_40v45", rnorm(40, 6), rnorm(45), "greater")

# ---------------------------------------------------------------------------------------------
ids <- vapply(cases, function(c) c$id, "")
if (anyDuplicated(ids)) stop("duplicate case ids: ", paste(ids[duplicated(ids)], collapse = ", "))

doc <- list(
  generator = "tests/oracle/wilcox_oracle.R",
  r_version = R.version.string,
  seed = 20261127,
  cases = arr_list(cases)
)
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)
writeLines(json_value(doc), out_path)
cat(sprintf("wrote %d cases to %s\n", length(cases), out_path))
