"""Run the stock `lm_eval` CLI against an endpoint, for cross-checks (tests) and side-by-side benchmarks.

Same server, same task folder, same limit and concurrency as the platform's run; returns lm-eval's own
per-document records (the `--log_samples` file) and the whole process's wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def run_stock_cli(base_url: str, task_dir: Path, *, limit: int, concurrency: int, out_dir: Path,
                  model: str = "local") -> tuple[dict[int, dict[str, Any]], float]:
    """`lm_eval run --model local-chat-completions --apply_chat_template` on one local task folder.
    The task's relative data files resolve from the CWD, so the CLI runs inside a copy of the folder."""
    work = out_dir / "task"
    shutil.copytree(task_dir, work, dirs_exist_ok=True)
    args = [sys.executable, "-m", "lm_eval", "run", "--model", "local-chat-completions", "--model_args",
            f"model={model},base_url={base_url}/v1/chat/completions,num_concurrent={concurrency},max_retries=1,"
            "tokenized_requests=False", "--apply_chat_template", "--tasks", task_dir.name, "--include_path",
            str(work.parent), "--limit", str(limit), "--log_samples", "--output_path", str(out_dir / "out")]
    started = time.perf_counter()
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"lm_eval CLI failed ({done.returncode}): {done.stderr[-3000:]}")
    files = sorted((out_dir / "out").rglob(f"samples_{task_dir.name}_*.jsonl"))
    if not files:
        raise RuntimeError(f"lm_eval CLI wrote no samples file under {out_dir / 'out'}")
    rows = [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]
    return {int(r["doc_id"]): r for r in rows}, seconds
