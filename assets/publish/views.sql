-- Views in the published file that answer common questions without joins.
-- `{db}` is replaced with the catalogue name of the file being built.
SELECT 1;
