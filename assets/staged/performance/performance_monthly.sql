-- Provider rows that resolve to an NHS trust, one row per trust, month and measure.
-- {staged} is a UNION ALL BY NAME of the staged <dataset>_monthly tables that exist.
-- Two reported codes can resolve to one trust (a predecessor after a merger): their counts are summed and
-- percentages recomputed from the sums, never averaged. Codes of data/reference/ods_code_table.csv (trusts the
-- bundled etr exports lack, e.g. TAD) take their name from that table.
WITH staged AS ({staged})
SELECT
    s.org_code,
    s.period_month,
    s.measure,
    sum(s.numerator) AS numerator,
    CASE WHEN count(s.denominator) > 0 THEN sum(s.denominator) END AS denominator,
    CASE WHEN any_value(m.unit) = 'percent'
         THEN 100 * sum(s.numerator) / nullif(sum(s.denominator), 0)
         ELSE sum(s.numerator) END AS value,
    string_agg(DISTINCT s.source_file, '; ' ORDER BY s.source_file) AS source_file,
    any_value(m.dataset) AS dataset,
    string_agg(DISTINCT s.reported_org_code, ', ' ORDER BY s.reported_org_code) AS reported_org_codes,
    CASE WHEN bool_or(s.match_status = 'ods_successor') THEN 'ods_successor'
         WHEN bool_or(s.match_status = 'code_table') THEN 'code_table'
         ELSE 'ods_trust' END AS match_status,
    coalesce(t.org_name, c.org_name) AS org_name,
    t.close_date IS NOT NULL AS org_closed
FROM staged AS s
JOIN performance_measures AS m USING (measure)
LEFT JOIN ods_trusts AS t ON t.org_code = s.org_code
LEFT JOIN ods_code_table AS c ON c.org_code = s.org_code
WHERE s.org_code IS NOT NULL
GROUP BY s.org_code, s.period_month, s.measure, t.org_name, c.org_name, t.close_date
ORDER BY s.org_code, s.period_month, s.measure
