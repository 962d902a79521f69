-- Where each model~quant file came from (derived quants name their source quant).
SELECT weights_key, model, quant, origin, derived_from, sha256, size_bytes, file_type FROM weights ORDER BY weights_key;
