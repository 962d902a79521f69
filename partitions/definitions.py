"""The partition dimensions: `variant` (model~quant~engine), `task` (a behaviour pack) and `sim` (a simulation).

Both are dynamic: `beyond-vibes sync` and the catalog sensor register them from models.yaml and the
packs folder, so adding a model or a pack needs no code change.
"""

import dagster as dg

VARIANTS = dg.DynamicPartitionsDefinition(name="variant")
TASKS = dg.DynamicPartitionsDefinition(name="task")
VARIANT_TASK = dg.MultiPartitionsDefinition({"variant": VARIANTS, "task": TASKS})
# Simulations have their own dimension: a pack task and a sim never cross, so no partition exists that cannot run.
SIMS = dg.DynamicPartitionsDefinition(name="sim")
VARIANT_SIM = dg.MultiPartitionsDefinition({"variant": VARIANTS, "sim": SIMS})
# lm-evaluation-harness tasks (models.yaml's `lm_eval:` section) beside the packs, on the same variants.
LMEVAL_TASKS = dg.DynamicPartitionsDefinition(name="lmeval")
VARIANT_LMEVAL = dg.MultiPartitionsDefinition({"variant": VARIANTS, "lmeval": LMEVAL_TASKS})
# Judge rubrics (judges/*.yaml): one compiled judge program per rubric.
RUBRICS = dg.DynamicPartitionsDefinition(name="rubric")
