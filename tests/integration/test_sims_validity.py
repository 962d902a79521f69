"""Every shipped sim is valid the SWE-bench way and cannot be passed cheaply: its reference solution passes every
criterion; the untouched fixture fails at least one; every cheap wrong attempt (the prompt echoed back, "done" with
no change, the sim's own confident wrong answers, weakened tests, edits to code it was told not to touch) fails; and
a scripted agent playing the reference through the real loop and sandbox, in both tool modes, passes. Real
commands in the real sandbox."""

import pytest

from beyond_vibes_assets.agent.validity import check_validity
from beyond_vibes_assets.catalog.sims import ARCHETYPES, scan_sims
from beyond_vibes_assets.sandbox import isolation_problem
from tests.conftest import REPO

pytestmark = pytest.mark.integration
SIMS, BROKEN = scan_sims(REPO / "sims")


def test_shipped_sims_load_and_cover_every_archetype_twice():
    assert BROKEN == {}
    per = {a: [s for s in SIMS.values() if s.task.archetype == a] for a in ARCHETYPES}
    assert all(len(v) >= 2 for v in per.values()), {a: len(v) for a, v in per.items()}
    assert any(s.task.false_premise for s in SIMS.values())


@pytest.mark.parametrize("name", sorted(SIMS))
def test_reference_passes_and_untouched_and_cheap_attempts_fail(name, tmp_path, home):
    if isolation_problem():
        pytest.fail(f"the sandbox is required here: {isolation_problem()}")
    validity = check_validity(SIMS[name], tmp_path)
    assert validity.valid, validity.problems()
