-- Views in the published file that answer common questions without joins.
-- `{db}` is replaced with the catalogue name of the file being built. Only the view's own name takes it: a
-- qualified table name would be stored in the view and fail once the file is opened under its own name, while an
-- unqualified one resolves in the view's catalogue (the published file). Each view is documented like a table in
-- data/dictionary/<view>.yaml, so the publication gate checks its columns and key like any published table.

-- One row per trust and survey year: organisation, index, rank, the seven factors, what to work on, and the key
-- performance measures of the financial year that starts in April of the survey year (the join the index uses;
-- performance_annual.financial_year_start). Factor ids and measures are compared as text so that the view binds
-- whatever the key columns' types (the contract tests build the file from all-text tables).
CREATE VIEW {db}.v_trust_year AS
WITH factors AS (
    SELECT
        org_code,
        survey_year,
        max(score) FILTER (WHERE factor_id::VARCHAR = '1') AS factor_1_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '2') AS factor_2_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '3') AS factor_3_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '4') AS factor_4_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '5') AS factor_5_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '6') AS factor_6_score,
        max(score) FILTER (WHERE factor_id::VARCHAR = '7') AS factor_7_score
    FROM factor_scores
    GROUP BY org_code, survey_year
),
performance AS (
    SELECT
        org_code,
        financial_year_start,
        any_value(financial_year) AS financial_year,
        max(value) FILTER (WHERE measure = 'ae_4hr_pct_all') AS ae_4hr_pct,
        max(months_covered) FILTER (WHERE measure = 'ae_4hr_pct_all') AS ae_4hr_months,
        max(value) FILTER (WHERE measure = 'rtt_within_18w_pct') AS rtt_18w_pct,
        max(months_covered) FILTER (WHERE measure = 'rtt_within_18w_pct') AS rtt_18w_months,
        max(value) FILTER (WHERE measure = 'cancer_fds_pct') AS cancer_fds_pct,
        max(months_covered) FILTER (WHERE measure = 'cancer_fds_pct') AS cancer_fds_months,
        max(value) FILTER (WHERE measure = 'sickness_absence_pct') AS sickness_absence_pct,
        max(months_covered) FILTER (WHERE measure = 'sickness_absence_pct') AS sickness_absence_months
    FROM performance_annual
    GROUP BY org_code, financial_year_start
)
SELECT
    i.org_code,
    i.survey_year,
    coalesce(s.org_name, o.org_name) AS org_name,
    coalesce(o.region, s.region) AS region,
    o.icb_code,
    s.ics,
    i.benchmarking_group,
    i.index_score,
    i.index_lo,
    i.index_hi,
    i.ranked,
    i.rank_in_group,
    i.rank_lo,
    i.rank_hi,
    i.n_in_group,
    i.rank_status,
    i.coverage,
    f.factor_1_score,
    f.factor_2_score,
    f.factor_3_score,
    f.factor_4_score,
    f.factor_5_score,
    f.factor_6_score,
    f.factor_7_score,
    i.weakest_factor_1_name,
    i.weakest_factor_2_name,
    i.weakest_barrier,
    i.suggested_support_type,
    p.financial_year,
    p.ae_4hr_pct,
    p.ae_4hr_months,
    p.rtt_18w_pct,
    p.rtt_18w_months,
    p.cancer_fds_pct,
    p.cancer_fds_months,
    p.sickness_absence_pct,
    p.sickness_absence_months
FROM readiness_index AS i
LEFT JOIN survey_organisations AS s ON s.org_code = i.org_code AND s.survey_year = i.survey_year
LEFT JOIN organisations AS o ON o.org_code = i.org_code
LEFT JOIN factors AS f ON f.org_code = i.org_code AND f.survey_year = i.survey_year
LEFT JOIN performance AS p ON p.org_code = i.org_code AND p.financial_year_start = i.survey_year
ORDER BY i.org_code, i.survey_year;
