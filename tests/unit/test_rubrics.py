"""Judge rubrics load as data, every shipped one is valid, and mistakes name the file, field and fix."""

import pytest

from beyond_vibes_assets.catalog.errors import ConfigError
from beyond_vibes_assets.catalog.rubrics import ARCHETYPES, load_rubric, rubrics_for, scan_rubrics
from beyond_vibes_assets.settings import REPO_ROOT


def test_shipped_rubrics_cover_every_archetype_with_anchored_criteria():
    rubrics, broken = scan_rubrics(REPO_ROOT / "judges")
    assert not broken and {"design", "janitor", "engineer", "analyst", "tier1"} <= set(rubrics)
    for archetype in ARCHETYPES:
        applicable = rubrics_for(rubrics, archetype)
        assert len(applicable) == 2 and "tier1" in {r.name for r in applicable}
    for rubric in rubrics.values():
        for c in rubric.model.criteria:
            assert sorted(c.anchors) == [1, 2, 3, 4, 5] and all(len(a) > 10 for a in c.anchors.values())


def test_mistakes_are_reported_with_file_field_and_fix(tmp_path):
    bad = tmp_path / "oops.yaml"
    bad.write_text("name: other\narchetypes: [planing]\ncriteria:\n  - name: x\n    question: Is it good enough?\n"
                   "    sees: [task]\n    anchors: {1: a, 2: b, 3: c, 5: e}\n    weight: 2\n")
    with pytest.raises(ConfigError) as err:
        load_rubric(bad)
    text = "\n".join(map(str, err.value.problems))
    assert "oops.yaml" in text and "archetypes" in text and "anchors" in text and "weight" in text
