# R oracle for canarystats.stats.adjust_p_values(method = "hommel"): R's p.adjust.
# Writes tests/data/hommel_r_cases.json; run from the repository root:
#   Rscript tests/oracle/hommel_oracle.R
# Base R only; deterministic (set.seed).
set.seed(20261203)
cases <- list()
add <- function(p) {
  cases[[length(cases) + 1]] <<- list(p = p, hommel = p.adjust(p, "hommel"),
                                       holm = p.adjust(p, "holm"))
}
add(c(0.01, 0.04, 0.03))
add(c(0.01, 0.02, 0.03, 0.04, 0.5, 0.045))
add(c(0.5))
add(c(0.001, 0.001, 0.001))
add(c(1, 1, 0.2, 0.0001))
for (m in c(2, 3, 5, 8, 13, 30)) {
  for (k in 1:6) {
    # a mix of nulls (uniform) and effects (small p), with ties from rounding
    p <- c(runif(m - floor(m / 3)), rbeta(floor(m / 3), 0.3, 8))
    if (k %% 2 == 0) p <- round(p, 2)
    add(sample(p))
  }
}
fmt <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
lines <- vapply(cases, function(c) sprintf('{"p": %s, "hommel": %s, "holm": %s}',
                                            fmt(c$p), fmt(c$hommel), fmt(c$holm)), "")
out <- paste0('{"r_version": "', R.version.string, '", "cases": [\n',
              paste(lines, collapse = ",\n"), "\n]}\n")
writeLines(out, "tests/data/hommel_r_cases.json", sep = "")
