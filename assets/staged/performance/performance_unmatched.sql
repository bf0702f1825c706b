-- Providers whose code is not an NHS trust in ODS etr: kept out of performance_monthly, never dropped silently.
WITH staged AS ({staged})
SELECT
    any_value(m.dataset) AS dataset,
    s.period_month,
    s.reported_org_code,
    any_value(s.reported_org_name) AS reported_org_name,
    count(*) AS measure_rows,
    string_agg(DISTINCT s.source_file, '; ') AS source_file,
    'not an NHS trust code in ODS etr (independent sector provider, walk-in centre, ICB, CSU or other body)'
        AS reason
FROM staged AS s
JOIN performance_measures AS m USING (measure)
WHERE s.match_status = 'unmatched'
GROUP BY m.dataset, s.period_month, s.reported_org_code
ORDER BY dataset, s.period_month, s.reported_org_code
