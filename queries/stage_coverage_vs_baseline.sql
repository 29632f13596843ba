-- title: Stage coverage, notebook vs baseline
-- question: For each lifecycle stage, what share of notebook ML questions discusses it compared with non-notebook ML questions, with a 95% interval of the difference and a verdict (discussed / under-discussed / skipped)?
-- param: site VARCHAR = '*'  a site, or '*' for all sites together
-- param: scope VARCHAR = 'all'  'all', 'platform' or 'year'
-- columns: site, scope, grp, stage, n_notebook, total_notebook, share_notebook, n_baseline, total_baseline, share_baseline, diff, ci_low, ci_high, verdict
SELECT site, scope, grp, stage, n_notebook, total_notebook, share_notebook, n_baseline, total_baseline, share_baseline,
       diff, ci_low, ci_high, verdict
FROM stage_coverage
WHERE site = COALESCE(getvariable('site'), '*') AND scope = COALESCE(getvariable('scope'), 'all')
ORDER BY grp, diff, stage;
