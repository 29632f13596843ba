-- title: Stage coverage, notebook vs baseline
-- question: For each lifecycle stage, what share of notebook ML questions discusses it compared with non-notebook ML questions: raw (the classifier's counts) and corrected for the classifier's errors, with 95% intervals, and a verdict (more discussed / less discussed / rare / on par / undetermined)?
-- param: selection_id VARCHAR = 'a9c8f20f8dbc1084'  the selection's rows (default: the study's notebook ML questions; query coverage_selections lists them all)
-- param: site VARCHAR = '*'  a site, or '*' for all sites together
-- param: scope VARCHAR = 'all'  'all', 'platform' or 'year'
-- columns: site, scope, grp, stage, n_notebook, total_notebook, raw_share_notebook, share_notebook, share_notebook_low, share_notebook_high, n_baseline, total_baseline, raw_share_baseline, share_baseline, share_baseline_low, share_baseline_high, diff, diff_low, diff_high, p_adjusted, verdict, reason, recall, gold_support
SELECT site, scope, grp, stage, n_notebook, total_notebook, raw_share_notebook, share_notebook, share_notebook_low,
       share_notebook_high, n_baseline, total_baseline, raw_share_baseline, share_baseline, share_baseline_low,
       share_baseline_high, diff, diff_low, diff_high, p_adjusted, verdict, reason, recall, gold_support
FROM stage_coverage
WHERE selection_id = COALESCE(getvariable('selection_id'), 'a9c8f20f8dbc1084')
  AND site = COALESCE(getvariable('site'), '*') AND scope = COALESCE(getvariable('scope'), 'all')
ORDER BY grp, list_position(['problem-formulation', 'data-collection', 'data-preparation', 'data-labelling',
                             'feature-engineering', 'model-training', 'model-evaluation', 'fairness-bias',
                             'interpretability', 'documentation-provenance', 'pretrained-reuse', 'deployment',
                             'monitoring', 'privacy-security', 'environment'], stage);
