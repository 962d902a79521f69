"""`beyond-vibes packs export-lmeval PACK`: any pack as an lm-evaluation-harness task (YAML + JSONL), so users can
cross-check our verifiers against lm-eval's metrics on the same items.

The task is generative (`generate_until`) with the pack's stop sequences as `until` and its max_tokens as
`max_gen_toks`. The target is the item's expected answer where the verifier has one (`exact`, `numeric`,
`choice`: `answer`); other verifiers have no single reference string, so their items are exported without one
and lm-eval's exact_match can only be read as a prompt export for them.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..catalog.packs import Pack


def _target(check: dict) -> str:
    answer = check.get("answer")
    if isinstance(answer, list):
        answer = answer[0] if answer else ""
    return "" if answer is None else str(answer)


def export_pack(pack: Pack, out: Path) -> Path:
    name = f"bv_pack_{pack.name}".replace("-", "_")
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": item.id, "system": "\n\n".join(s for s in (pack.meta.system_prompt, item.system) if s),
             "prompt": item.prompt, "target": _target(item.check), "difficulty": item.difficulty}
            for item in pack.items]
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": f"{name}.jsonl"}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": "{{prompt}}",
        "doc_to_target": "{{target}}",
        "generation_kwargs": {"until": list(pack.meta.stop) or ["</s>"], "max_gen_toks": pack.meta.max_tokens,
                              "do_sample": False, "temperature": 0.0},
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                         "ignore_case": True, "ignore_punctuation": True}],
        "metadata": {"version": float(pack.version) if pack.version.replace(".", "", 1).isdigit() else 1.0,
                     "beyond_vibes_pack": pack.name, "pack_fingerprint": pack.fingerprint},
    }
    header = (f"# Exported from the Beyond Vibes pack '{pack.name}' (fingerprint {pack.fingerprint}).\n"
              "# data_files is relative to this folder: run lm_eval from here, or make the path absolute.\n")
    (folder / f"{name}.yaml").write_text(header + yaml.safe_dump(task, sort_keys=False))
    return folder
