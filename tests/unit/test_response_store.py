"""The sample cache: keyed by everything that shapes an answer, torn writes survived."""

from beyond_vibes_assets.runner.response_store import ResponseStore, cache_key, keep


def key(**over):
    base = dict(variant="m~Q4_1~cpu", task_version="1", sample_id="s1", prompt_hash="p", sampling={"temperature": 0},
                model_sha256="aaa", engine_build="b1", task="reasonmath")
    base.update(over)
    return cache_key(**base)


def test_cache_key_includes_model_file_and_engine_build():
    assert key() == key()
    for change in ({"model_sha256": "bbb"}, {"engine_build": "b2"}, {"sampling": {"temperature": 0.7}},
                   {"prompt_hash": "q"}, {"task_version": "2"}, {"variant": "m~Q8_0~cpu"}):
        assert key(**change) != key(), change


def test_torn_last_line_is_ignored_and_repaired(tmp_path):
    store = ResponseStore(tmp_path / "r.jsonl")
    store.append({"cache_key": "k1", "answer": "a"})
    with open(store.path, "a") as fh:
        fh.write('{"cache_key": "k2", "ans')  # killed mid-write
    assert [r["cache_key"] for r in store.records()] == ["k1"]
    store.append({"cache_key": "k3", "answer": "c"})
    assert [r["cache_key"] for r in store.records()] == ["k1", "k3"]
    assert store.attempts_by_key() == {"k1": 1, "k3": 1}


def test_keep_policy():
    assert keep({"failure_mode": None}, retry_errors=False)
    assert keep({"failure_mode": "timeout"}, retry_errors=False)  # a model outcome: kept
    assert not keep({"failure_mode": "endpoint_unreachable"}, retry_errors=False)  # infrastructure: re-sent
    assert not keep({"failure_mode": "timeout"}, retry_errors=True)
