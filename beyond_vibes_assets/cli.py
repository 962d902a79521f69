"""`beyond-vibes`: validate the catalog, sync partitions and launch materializations.

The CLI never reimplements an asset: every command that computes something launches a Dagster
materialization of the same assets the UI shows, into the same instance.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .catalog.errors import ConfigError

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _set_config(args: argparse.Namespace) -> None:
    if getattr(args, "config", None):
        os.environ["BEYOND_VIBES_CONFIG"] = str(Path(args.config).resolve())
    if getattr(args, "packs", None):
        os.environ["BEYOND_VIBES_PACKS"] = str(Path(args.packs).resolve())


def _catalog_resource():
    from .catalog.resource import CatalogResource

    return CatalogResource()


def _instance():
    import dagster as dg

    from .settings import ensure_dagster_home

    from .orphans import reap_orphaned_runs

    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    for run_id in reap_orphaned_runs(instance):
        err.print(f"marked run {run_id} failed: its process is gone; its pool slots are free again")
    return instance


def materialize(selection: list[str], partition_key=None, run_config: dict | None = None, instance=None,
                resources: dict | None = None) -> bool:
    """Launch one in-process run of the selected assets; True when it succeeded."""
    import dagster as dg

    from .assets import ALL_ASSETS
    from .definitions import default_resources
    from .orphans import launch_tags

    result = dg.materialize(
        ALL_ASSETS, selection=selection, partition_key=partition_key, instance=instance or _instance(),
        resources=resources or default_resources(), raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": os.environ.get("BEYOND_VIBES_LOG_LEVEL", "INFO")}}},
                    **(run_config or {})},
        tags={"beyond_vibes/launched_by": "cli", **launch_tags()},
    )
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                err.print(f"[red]failed[/red] {event.step_key}: {escape(event.step_failure_data.error.message.strip()[:2000])}")
    return result.success


def materialize_stale(selection: list[str], partition_key=None, *, instance, force: bool = False,
                      run_config: dict | None = None) -> bool:
    """Materialize only when some selected asset partition is missing or stale (or when forced)."""
    from .staleness import needs_run

    if not force and not needs_run(instance, selection, partition_key):
        console.print(escape(f"  fresh, skipped: {', '.join(selection)}{f' [{partition_key}]' if partition_key else ''}"))
        return True
    return materialize(selection, partition_key, run_config=run_config, instance=instance)


def cmd_validate(args: argparse.Namespace) -> int:
    cat = _catalog_resource()
    problems = []
    try:
        catalog = cat.catalog()
    except ConfigError as exc:
        problems += exc.problems
        catalog = None
    try:
        packs = cat.all_packs()
    except ConfigError as exc:
        problems += exc.problems
        packs = {}
    if problems:
        for p in problems:
            err.print(f"[red]error[/red] {escape(str(p))}")
        err.print(f"{len(problems)} problem(s)")
        return 1
    from .catalog.variants import variants

    console.print(f"{cat.config_file()}: {len(catalog.models)} models, {len(catalog.engines)} engines, "
                  f"{len(variants(catalog))} variants; {len(packs)} packs ({sum(len(p.items) for p in packs.values())} items). OK")
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    from .catalog.variants import variants

    for v in variants(_catalog_resource().catalog()):
        print(v.key)
    return 0


def _sync(instance) -> None:
    from .sync import sync_instance

    plan = sync_instance(instance, _catalog_resource())
    for line in plan.lines() or ["partitions already match the catalog"]:
        console.print(escape(line))


def cmd_sync(args: argparse.Namespace) -> int:
    _sync(_instance())
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .catalog.variants import variants
    from .engine.weights import origin_of

    catalog = _catalog_resource().catalog()
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
    _sync(instance)
    ok = True
    for v in chosen:
        if not v.is_api:
            ok &= materialize(["engine_build", "model_weights"], v.key, instance=instance)
    return 0 if ok else 1


def cmd_probe(args: argparse.Namespace) -> int:
    instance = _instance()
    _sync(instance)
    ok = all(materialize(["engine_build", "model_weights", "engine_probe"], key, instance=instance) for key in args.variant)
    return 0 if ok else 1


def _pack_run_config(args: argparse.Namespace) -> dict:
    config = {k: getattr(args, k) for k in ("temperature", "top_p", "seed", "timeout_s", "concurrency") if getattr(args, k, None) is not None}
    if getattr(args, "retry_errors", False):
        config["retry_errors"] = True
    return {"ops": {"pack_results": {"config": config}}} if config else {}


def cmd_packs_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from .runner import progress

    instance = _instance()
    _sync(instance)
    packs = args.pack or sorted(_catalog_resource().all_packs())
    ok = True
    force = args.force or args.retry_errors or bool(_pack_run_config(args))
    for variant in args.variant:
        ok &= materialize_stale(["engine_build", "model_weights", "engine_probe"], variant, instance=instance)
        for pack in packs:
            ok &= materialize(["pack_definition"], pack, instance=instance)

            def show(done: int, total: int, note: str, _pack=pack, _variant=variant) -> None:
                end = "\n" if done == total else "\r"
                console.file.write(f"[{done}/{total}] {_variant} {_pack}: {note[:60]:<60}{end}")
                console.file.flush()

            with progress.hook(show):
                ok &= materialize_stale(["pack_results"], dg.MultiPartitionKey({"variant": variant, "task": pack}),
                                        run_config=_pack_run_config(args), instance=instance, force=force)
    return 0 if ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from .catalog.variants import variants
    from .settings import home

    if cmd_validate(args):
        return 1
    started = time.perf_counter()
    instance = _instance()
    _sync(instance)
    cat = _catalog_resource()
    keys = [v.key for v in variants(cat.catalog())]
    packs = sorted(cat.all_packs())
    ok = True
    for pack in packs:
        ok &= materialize(["pack_definition"], pack, instance=instance)
    for key in keys:
        console.print(f"[bold]{key}[/bold]: build, weights, probe")
        if not materialize_stale(["engine_build", "model_weights", "engine_probe"], key, instance=instance, force=args.force):
            ok = False
            continue
        for pack in packs:
            t0 = time.perf_counter()
            good = materialize_stale(["pack_results"], dg.MultiPartitionKey({"variant": key, "task": pack}),
                                     instance=instance, force=args.force)
            ok &= good
            console.print(f"  {pack}: {'ok' if good else 'FAILED'} ({time.perf_counter() - t0:.1f}s)")
    ok &= materialize(["curated_dataset", "report"], instance=instance)
    report = home() / "reports" / "report.md"
    if report.exists():
        print(report.read_text())  # plain: the Markdown must not be wrapped or read as markup
    console.print(f"\nreport: {report}\nwarehouse: {home() / 'warehouse' / 'beyond_vibes.duckdb'}"
                  f"\nwall time {time.perf_counter() - started:.0f}s; {'all green' if ok else 'SOME STEPS FAILED'}")
    return 0 if ok else 1


def cmd_inspect(args: argparse.Namespace) -> int:
    from . import inspect_runs

    return inspect_runs.main(args, console)


def cmd_ui(args: argparse.Namespace) -> int:
    from .settings import REPO_ROOT

    _instance()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    local = Path(sys.executable).parent / "dagster"  # the venv's dagster, even when the venv is not activated
    dagster = str(local) if local.exists() else "dagster"
    os.execvp(dagster, [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), *rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beyond-vibes", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, fn, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", help="models.yaml (default ./models.yaml or $BEYOND_VIBES_CONFIG)")
        p.add_argument("--packs", help="packs folder (default: the repo's packs/)")
        p.set_defaults(fn=fn)
        return p

    add("validate", cmd_validate, "check models.yaml and every pack; one message per problem")
    add("variants", cmd_variants, "print every variant key, one per line")
    add("sync", cmd_sync, "register variants and tasks as Dagster partitions; report removed ones")
    p = add("demo", cmd_demo, "sync and materialize the whole default graph (missing or stale parts), then print the report")
    p.add_argument("--force", action="store_true", help="materialize every partition even when fresh")
    p = add("download", cmd_download, "prepare weights for local variants (API models are skipped)")
    p.add_argument("--dry-run", action="store_true", help="show what would be fetched or derived")
    p.add_argument("--variant", action="append", help="only these variants (repeatable)")
    p = add("probe", cmd_probe, "materialize engine_probe for variants")
    p.add_argument("--variant", action="append", required=True)
    packs = sub.add_parser("packs", help="behaviour packs").add_subparsers(dest="packs_command", required=True)
    p = packs.add_parser("run", help="run packs against variants (same code path as the asset)")
    p.add_argument("--config")
    p.add_argument("--packs")
    p.add_argument("--variant", action="append", required=True)
    p.add_argument("--pack", action="append", help="default: every pack")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", dest="top_p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--timeout-s", dest="timeout_s", type=float)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--retry-errors", action="store_true", help="re-send samples whose stored result is a failure")
    p.add_argument("--force", action="store_true", help="materialize even when the partition is fresh")
    p.set_defaults(fn=cmd_packs_run)
    p = add("inspect", cmd_inspect, "failures with reasons, one sample in full, or a diff of two runs")
    p.add_argument("--variant")
    p.add_argument("--pack")
    p.add_argument("--sample", help="show this sample id in full")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help="two run ids (or variant keys) to compare item by item")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("ui", cmd_ui, "start `dagster dev` on this code location with the home instance")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _set_config(args)
    try:
        return int(args.fn(args) or 0)
    except ConfigError as exc:
        for p in exc.problems:
            err.print(f"[red]error[/red] {escape(str(p))}")
        return 1
    except KeyboardInterrupt:
        err.print("interrupted; completed samples are kept, re-run to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())


