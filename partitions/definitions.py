"""The two partition dimensions: `variant` (model~quant~engine) and `task` (a pack or simulation task).

Both are dynamic: `beyond-vibes sync` and the catalog sensor register them from models.yaml and the
packs folder, so adding a model or a pack needs no code change.
"""

import dagster as dg

VARIANTS = dg.DynamicPartitionsDefinition(name="variant")
TASKS = dg.DynamicPartitionsDefinition(name="task")
VARIANT_TASK = dg.MultiPartitionsDefinition({"variant": VARIANTS, "task": TASKS})
