-- Every variant, pack and sim that has result rows (a member never recorded in catalog_members is retired now).
SELECT DISTINCT 'variant' AS kind, variant AS name FROM samples
UNION SELECT DISTINCT 'pack', task FROM samples
UNION SELECT DISTINCT 'variant', variant FROM sim_episodes
UNION SELECT DISTINCT 'sim', sim FROM sim_episodes;
