"""One module per asset family."""

from .curated import curated_dataset
from .engine_build import engine_build
from .engine_probe import engine_probe
from .judges import judge_program, judge_scores
from .lmeval import lm_eval_results
from .model_weights import model_weights
from .packs import pack_definition, pack_results
from .report import report
from .sims import sim_definition, sim_episodes

ALL_ASSETS = [engine_build, model_weights, engine_probe, pack_definition, pack_results, sim_definition, sim_episodes,
              lm_eval_results, judge_program, judge_scores, curated_dataset, report]
