-- Measured speed of a variant's latest probe (decode falls back to the server's figure); scales timeouts.
SELECT coalesce(client_decode_tps, server_predicted_tps) AS decode_tps, server_prompt_tps AS prompt_tps
FROM probes WHERE variant = ? ORDER BY created_at DESC LIMIT 1
