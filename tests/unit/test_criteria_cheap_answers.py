"""The pure criteria that keep sims from crediting cheap wrong work (issue 21, finding 4): tables checked cell by cell
against the docs' truth, "do not change the code" decided from the files, restored tests, mutants of the code the
agent's tests must catch."""

from beyond_vibes_assets.scoring.criteria import check_table_truth, mutants, restore_changes, unchanged_problems, yes_no

TRUTH = {"Priority queues": {"QuickQ": True, "Streamline": False}, "Web dashboard": {"QuickQ": False, "Streamline": True}}


def table(*rows):
    return "| Feature | QuickQ | Streamline |\n|---|---|---|\n" + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rows)


def test_a_table_that_denies_a_tool_its_features_fails_and_a_true_one_passes():
    assert check_table_truth(table(("Priority queues", "yes", "no"), ("Web dashboard", "no", "yes")), TRUTH, 2)[0]
    ok, reason, detail = check_table_truth(table(("Priority queues", "no", "yes"), ("Web dashboard", "no", "yes")), TRUTH, 1)
    assert not ok and "contradicts the docs" in reason and detail["contradicts_docs"]
    assert not check_table_truth(table(("Priority queues", "yes", "no")), TRUTH, 2)[0]  # too few documented rows
    assert not check_table_truth("no table here", TRUTH, 1)[0]
    assert not check_table_truth(table(("Priority queues", "", "no")), TRUTH, 1)[0]  # an empty cell claims nothing


def test_cells_read_as_yes_no_or_nothing():
    assert [yes_no(c) for c in ("yes", "**Yes**", "✓", "no", "✗", "-", "", "maybe")] == [True, True, True, False, False,
                                                                                      False, None, None]


def test_unchanged_sees_edits_additions_and_removals_under_the_paths_only():
    fixture = {"app/a.py": "x", "app/b.py": "y", "README.md": "r"}
    assert unchanged_problems(fixture, {**fixture, "PLAN.md": "p"}, ["app/"]) == []
    assert unchanged_problems(fixture, {"app/a.py": "x2", "app/c.py": "z", "README.md": "r"}, ["app/"]) == [
        "app/a.py (edited)", "app/b.py (removed)", "app/c.py (added)"]


def test_restoring_tests_removes_planted_test_machinery():
    fixture = {"tests/test_x.py": "real", "pkg/mod.py": "m"}
    workspace = {"tests/test_x.py": "def test_ok(): pass", "tests/test_new.py": "t", "conftest.py": "hook",
                 "pkg/mod.py": "m2", "pytest.py": "fake", "sub/sitecustomize.py": "s", "x.pth": "import evil"}
    changes = restore_changes(fixture, workspace, ["tests/"])
    assert changes == {"tests/test_x.py": "real", "tests/test_new.py": None, "conftest.py": None, "pytest.py": None,
                       "sub/sitecustomize.py": None, "x.pth": None}


def test_mutants_return_none_and_drop_raises_per_function():
    source = ("def f(x):\n    if x < 0:\n        raise ValueError(x)\n    return x * 2\n\n"
              "def g():\n    return 1\n")
    found = {(fn, how): src for fn, how, src in mutants(source, ["f", "g", "h"])}
    assert set(found) == {("f", "returns None"), ("f", "raises nothing"), ("g", "returns None"), ("h", "missing")}
    ns: dict = {}
    exec(found[("f", "returns None")], ns)
    assert ns["f"](3) is None and ns["g"]() == 1
    exec(found[("f", "raises nothing")], ns)
    assert ns["f"](-1) == -2
