-- title: Selections with stage coverage
-- question: Which question selections has `stackmine stages` computed coverage for, and how many notebook and baseline ML questions does each compare (all sites together)?
-- columns: selection_id, selection, total_notebook, total_baseline, verdicts, classifier_version, coverage_version
SELECT selection_id, any_value(selection)::VARCHAR AS selection,
       max(total_notebook) FILTER (WHERE site = '*' AND scope = 'all') AS total_notebook,
       max(total_baseline) FILTER (WHERE site = '*' AND scope = 'all') AS total_baseline,
       string_agg(DISTINCT verdict, ', ' ORDER BY verdict) FILTER (WHERE site = '*' AND scope = 'all') AS verdicts,
       any_value(classifier_version) AS classifier_version, any_value(coverage_version) AS coverage_version
FROM stage_coverage
GROUP BY selection_id
ORDER BY selection_id;
