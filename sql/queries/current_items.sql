-- Item-level canonical answers of current variants and packs, for paired comparisons and latency plots.
SELECT variant, task, sample_id, passed, failure_mode, ttft_s, decode_tps FROM current_samples;
