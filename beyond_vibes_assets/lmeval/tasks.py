"""Find lm-eval tasks: local folders shipped with the project (offline) or lm-eval's own registry.

Only `generate_until` tasks run here: llama-server's OpenAI endpoints return log-probabilities of generated
tokens only, not of a given continuation, so lm-eval's `loglikelihood` requests (multiple-choice tasks such as
mmlu, hellaswag, arc) cannot be answered faithfully. Such tasks are refused when the task is loaded, with
the reason, instead of failing mid-run.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ..catalog.yaml_text import load_yaml
from ..settings import REPO_ROOT

LOCAL_TASKS = REPO_ROOT / "lm_eval_tasks"
SUPPORTED = ("generate_until",)


class UnsupportedTask(ValueError):
    """A task whose request type the served endpoints cannot answer."""


class NeedsEndpoint(RuntimeError):
    """Raised by an offline PlatformLM when an answer is not stored: the caller starts the engine and retries."""


@functools.lru_cache(maxsize=2)
def task_manager(local_only: bool):
    """lm-eval's task index. Indexing its ~26 000 bundled task files takes seconds (most of a small run), so a
    local task gets an index of nothing but itself (its config is passed whole); lm-eval's own tasks get the
    full index, built once per process."""
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(LOCAL_TASKS), include_defaults=False) if local_only else TaskManager()


def local_task_dir(name: str, include_path: str | None = None) -> Path | None:
    roots = ([Path(include_path)] if include_path else []) + [LOCAL_TASKS]
    for root in roots:
        if (root / name / f"{name}.yaml").exists():
            return root / name
    return None


def local_task_config(folder: Path) -> dict[str, Any]:
    """The task YAML as a dict, with relative data files made absolute (lm-eval resolves them from the CWD)."""
    config = load_yaml((folder / f"{folder.name}.yaml").read_text())
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, dict):
        config["dataset_kwargs"]["data_files"] = {k: str((folder / v).resolve()) for k, v in files.items()}
    elif isinstance(files, str):
        config["dataset_kwargs"]["data_files"] = str((folder / files).resolve())
    return config


def task_spec(name: str, include_path: str | None = None) -> tuple[str | dict[str, Any], str]:
    """(what to hand lm-eval, the task's version) after checking its request type."""
    folder = local_task_dir(name, include_path)
    if folder is not None:
        config = local_task_config(folder)
        output_type = config.get("output_type", "generate_until")
        version = str((config.get("metadata") or {}).get("version", "0"))
        spec: str | dict[str, Any] = config
    else:
        manager = task_manager(False)
        if name not in manager.all_tasks:
            raise UnsupportedTask(f"lm-eval knows no task {name!r} and there is no folder {LOCAL_TASKS / name}; "
                                  "check the name (`lm_eval ls tasks`) or add a local task folder")
        config = manager._get_config(name) if hasattr(manager, "_get_config") else {}  # noqa: SLF001 - no public API
        output_type = (config or {}).get("output_type", "generate_until")
        version = str(((config or {}).get("metadata") or {}).get("version", "0"))
        spec = name
    if output_type not in SUPPORTED:
        raise UnsupportedTask(f"lm-eval task {name!r} uses {output_type!r} requests; only {', '.join(SUPPORTED)} runs "
                              "against llama-server (its OpenAI endpoints return no log-probabilities of a given "
                              "continuation). Pick a generative variant of the task (e.g. gsm8k, ifeval) or drop it")
    return spec, version
