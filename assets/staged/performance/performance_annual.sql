-- Financial years (April to March) from performance_monthly, by summing numerators and denominators:
-- ratio_of_sums: 100 × Σ numerator ÷ Σ denominator (percentages are never averaged);
-- sum: Σ numerator (monthly flows such as 12-hour waits);
-- mean_of_months: Σ numerator ÷ months covered (month-end stocks such as the waiting list).
-- annual_rules.py then applies applicability, minimum denominators, merger exclusion and reporting sectors.
WITH monthly AS (
    SELECT p.*, m.annual_method,
           CASE WHEN month(p.period_month) >= 4 THEN year(p.period_month) ELSE year(p.period_month) - 1 END
               AS financial_year_start
    FROM performance_monthly AS p
    JOIN performance_measures AS m USING (measure)
),
summed AS (
    SELECT
        org_code,
        financial_year_start,
        measure,
        any_value(annual_method) AS annual_method,
        sum(numerator) AS numerator,
        sum(denominator) AS denominator_sum,
        count(DISTINCT period_month) AS months_covered,
        count(DISTINCT period_month) FILTER (WHERE denominator > 0) AS months_with_denominator,
        min(period_month) AS first_month,
        max(period_month) AS last_month
    FROM monthly
    GROUP BY org_code, financial_year_start, measure
)
SELECT
    org_code,
    printf('%d-%02d', financial_year_start, (financial_year_start + 1) % 100) AS financial_year,
    measure,
    numerator,
    CASE WHEN annual_method = 'ratio_of_sums' THEN denominator_sum END AS denominator,
    CASE annual_method
        WHEN 'ratio_of_sums' THEN 100 * numerator / nullif(denominator_sum, 0)
        WHEN 'mean_of_months' THEN numerator / months_covered
        ELSE numerator
    END AS value,
    financial_year_start,
    annual_method,
    months_covered,
    months_with_denominator,
    first_month,
    last_month
FROM summed
ORDER BY org_code, financial_year_start, measure
