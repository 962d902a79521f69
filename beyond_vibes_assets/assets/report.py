"""report: the leaderboard as Markdown, written under BEYOND_VIBES_HOME and attached as metadata."""


from datetime import datetime, timezone

import dagster as dg

from resources.warehouse import WarehouseResource, read_sql

from ..catalog.resource import CatalogResource
from ..catalog_state import record_catalog_state
from ..engine.manifest import harness_commit
from .curated import REFRESH_ON_NEW_RESULTS
from ..report.html import markdown_to_html
from ..report.leaderboard import render, render_catalog, render_retired, render_sims
from ..settings import subdir


@dg.asset(
    deps=["curated_dataset"],
    group_name="warehouse",
    kinds={"markdown"},
    code_version="1",
    pool="warehouse",
    automation_condition=REFRESH_ON_NEW_RESULTS,
    description="Markdown + HTML leaderboard with per-pack pass counts, CIs, speed, perplexity and the quality-vs-speed frontier.",
)
def report(context: dg.AssetExecutionContext, warehouse: WarehouseResource, catalog: CatalogResource) -> dg.MaterializeResult:
    state = record_catalog_state(warehouse, catalog)
    leaderboard = warehouse.query("SELECT * FROM leaderboard")
    matrix = warehouse.query(read_sql("queries/pack_matrix.sql"))
    weights = warehouse.query(read_sql("queries/weights_origin.sql"))
    failures = warehouse.query(read_sql("queries/failure_modes.sql"))
    difficulty = warehouse.query(read_sql("queries/pass_by_difficulty.sql"))
    sims = render_sims(warehouse.query(read_sql("queries/sim_by_archetype.sql")),
                       warehouse.query(read_sql("queries/sim_health.sql")),
                       warehouse.query(read_sql("queries/sim_episode_list.sql")))
    commit, dirty = harness_commit()
    text = render(leaderboard, matrix, weights, failures, {
        "harness_commit": commit, "harness_dirty": dirty, "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}, difficulty, sims,
        [*render_retired(warehouse.query(read_sql("queries/retired.sql"))),
         *render_catalog(warehouse.query(read_sql("queries/catalog_state.sql")), state.digest)])
    path = subdir("reports") / "report.md"
    path.write_text(text)
    page = path.with_suffix(".html")
    page.write_text(markdown_to_html(text))
    context.log.info(f"report written to {path} and {page}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "html": dg.MetadataValue.path(str(page)),
                                          "report": dg.MetadataValue.md(text),
                                          "variants": len(leaderboard), "catalog_digest": state.digest})
