# R oracle for canarystats.stats.sequential: rpact's group-sequential designs by alpha spending.
# Writes tests/data/sequential_rpact_cases.json; run from the repository root:
#   Rscript tests/oracle/sequential_oracle.R
# Needs the rpact package (Debian: r-cran-rpact); deterministic (fixed designs, set.seed).
suppressMessages(library(rpact))
suppressWarnings({
set.seed(20261203)
cases <- list()
add <- function(rates, alpha, type, drifts = c(0, 1.5, 3)) {
  d <- getDesignGroupSequential(kMax = length(rates), alpha = alpha, sided = 1,
                                typeOfDesign = type, informationRates = rates)
  p <- getPowerAndAverageSampleNumber(d, theta = drifts, nMax = 1)
  stages <- matrix(p$rejectPerStage, nrow = length(rates))
  cases[[length(cases) + 1]] <<- list(
    rates = rates, alpha = alpha,
    spending = if (type == "asP") "pocock" else "obrien-fleming",
    critical = d$criticalValues, alpha_spent = d$alphaSpent,
    drifts = drifts, reject_per_stage = lapply(seq_along(drifts), function(i) stages[, i]))
}
for (type in c("asP", "asOF")) {
  for (alpha in c(0.001, 0.01, 0.025, 0.05, 0.1, 0.2)) {
    for (k in c(2, 3, 4, 6, 10)) add(seq_len(k) / k, alpha, type)
  }
  # uneven looks: early looks close together, a late one far; and random ones
  add(c(0.1, 0.15, 0.5, 1), 0.05, type)
  add(c(0.05, 0.9, 1), 0.025, type)
  add(c(0.5, 0.51, 1), 0.05, type)
  for (i in 1:6) {
    k <- sample(2:12, 1)
    rates <- sort(c(sample(seq(0.02, 0.98, by = 0.01), k - 1), 1))
    add(rates, sample(c(0.01, 0.025, 0.05, 0.1), 1), type, drifts = c(0, runif(2, 0.5, 4)))
  }
  add(seq_len(20) / 20, 0.05, type)
}
})  # rpact warns that kMax > 10 is "not validated"; the recursion is the same
# rpact gives Inf for a look whose alpha spent is below about 1e-15 (it cannot stop there);
# JSON has no literal for it, Python's json reads "Infinity".
fmt <- function(x) {
  paste0("[", paste(ifelse(is.infinite(x), "Infinity", sprintf("%.17g", x)), collapse = ", "), "]")
}
one <- function(c) {
  sprintf(paste0('{"rates": %s, "alpha": %.17g, "spending": "%s", "critical": %s, ',
                 '"alpha_spent": %s, "drifts": %s, "reject_per_stage": [%s]}'),
          fmt(c$rates), c$alpha, c$spending, fmt(c$critical), fmt(c$alpha_spent),
          fmt(c$drifts), paste(vapply(c$reject_per_stage, fmt, ""), collapse = ", "))
}
out <- paste0('{"r_version": "', R.version.string, '", "rpact_version": "',
              as.character(packageVersion("rpact")), '", "cases": [\n',
              paste(vapply(cases, one, ""), collapse = ",\n"), "\n]}\n")
writeLines(out, "tests/data/sequential_rpact_cases.json", sep = "")
