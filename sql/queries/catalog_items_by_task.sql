-- The item ids each pack had when the catalog state was last recorded.
SELECT task, list(sample_id) AS ids FROM catalog_items GROUP BY task;
