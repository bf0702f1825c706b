-- One row per code: ODS etr trusts (open and closed) and every organisation in any staff survey year.
-- The latest survey year gives the benchmarking group; survey-only organisations keep the survey's name.
WITH latest_survey AS (
    SELECT *
    FROM survey_organisations
    QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY survey_year DESC) = 1
),
joined AS (
    SELECT
        coalesce(ods.org_code, survey.org_code) AS org_code,
        coalesce(ods.org_name, survey.org_name) AS org_name,
        coalesce(survey.org_type, 'nhs_trust') AS org_type,
        survey.benchmarking_group,
        coalesce(ods.region_name, survey.region) AS region,
        ods.icb_code,
        ods.open_date,
        ods.close_date,
        coalesce(survey.is_trust, FALSE) OR ods.org_code IS NOT NULL AS is_trust,
        ods.org_code IS NOT NULL AS in_ods,
        survey.survey_year AS latest_survey_year
    FROM ods_trusts AS ods
    FULL OUTER JOIN latest_survey AS survey ON ods.org_code = survey.org_code
)
SELECT
    joined.*,
    successor.successor_code,
    successor.kind AS successor_kind,
    TRY_CAST(nullif(successor.effective_date, '') AS DATE) AS successor_date
FROM joined
LEFT JOIN org_successors AS successor ON successor.predecessor_code = joined.org_code
ORDER BY org_code
