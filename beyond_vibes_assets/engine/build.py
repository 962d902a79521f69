"""Build llama.cpp from source once per distinct (sources, version, flags) and cache it.

Builds take minutes, so they live in the shared cache (BEYOND_VIBES_CACHE, default
~/.cache/beyond-vibes/engines/<key>) where a fresh clone on the same machine reuses them. The MIT
llama.cpp sources come from the `llama-cpp-python` sdist on PyPI (vendor/llama.cpp); its Python
package is not used. A user binary (`binary:` in the engine config) skips the build.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..catalog.models_config import EngineBuild, EngineConfig
from ..settings import cache_root

TOOLS = ("llama-server", "llama-bench", "llama-quantize", "llama-perplexity")
# Flags every source build gets: static binaries (relocatable cache), no network at build or run time.
BASE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_UI=OFF",
)
_PROGRESS_RE = re.compile(r"^\[(\d+)/(\d+)\]")


@dataclass
class BuildInfo:
    key: str
    bin_dir: str
    source: str
    version: str
    cmake_flags: list[str]
    server_version: str = ""
    commit: str = ""
    built_at: str = ""
    build_seconds: float | None = None
    user_binary: bool = False
    tools: dict[str, str] = field(default_factory=dict)

    def tool(self, name: str) -> str | None:
        return self.tools.get(name)

    def to_dict(self) -> dict:
        return asdict(self)


# /proc/cpuinfo flag -> ggml cmake option. AMX is never enabled automatically (it crashed here).
CPU_FEATURES = {
    "sse4_2": "GGML_SSE42", "avx": "GGML_AVX", "avx2": "GGML_AVX2", "bmi2": "GGML_BMI2", "fma": "GGML_FMA",
    "f16c": "GGML_F16C", "avx_vnni": "GGML_AVX_VNNI", "avx512f": "GGML_AVX512", "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_vnni": "GGML_AVX512_VNNI", "avx512_bf16": "GGML_AVX512_BF16",
}


def detected_cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """cmake flags for exactly the instruction sets this CPU reports (pure given cpuinfo text)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return ["-DGGML_NATIVE=ON"]
    line = next((ln for ln in cpuinfo.splitlines() if ln.startswith("flags")), "")
    have = set(line.partition(":")[2].split())
    flags = ["-DGGML_NATIVE=OFF"]
    flags += [f"-D{opt}={'ON' if feat in have else 'OFF'}" for feat, opt in CPU_FEATURES.items()]
    return flags


def resolved_flags(build: EngineBuild) -> list[str]:
    return list(build.cmake_flags) if build.cmake_flags is not None else detected_cpu_flags()


def build_key(build: EngineBuild) -> str:
    flags = "\n".join([*BASE_FLAGS, *resolved_flags(build)])
    digest = hashlib.sha256(f"{build.source}\n{build.version}\n{flags}".encode()).hexdigest()[:12]
    return f"llama.cpp-{build.version}-{digest}"


def engines_dir() -> Path:
    path = cache_root() / "engines"
    path.mkdir(parents=True, exist_ok=True)
    return path


def server_version(server: str) -> tuple[str, str]:
    """(version line, commit) as `llama-server --version` prints them."""
    out = subprocess.run([server, "--version"], capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if ln.startswith("version:")), "")
    commit = re.search(r"commit ([0-9a-f]{6,})|\(([0-9a-f]{6,})\)", line)
    version = line.removeprefix("version:").strip() or "unknown"
    return version, (commit.group(1) or commit.group(2)) if commit else ""


def _find_tool(name: str) -> str:
    """cmake/ninja from this venv (PyPI) first, then PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"'{name}' not found: install it with `pip install {name}` (it is a project dependency)")
    return found


def fetch_sources(build: EngineBuild, log: Callable[[str], None]) -> Path:
    """Unpack llama.cpp sources from the llama-cpp-python sdist (downloaded once into the cache)."""
    src_root = cache_root() / "sources"
    src_root.mkdir(parents=True, exist_ok=True)
    unpacked = src_root / f"llama_cpp_python-{build.version}"
    llama_dir = unpacked / "vendor" / "llama.cpp"
    if (llama_dir / "CMakeLists.txt").exists():
        return llama_dir
    sdist = next(iter(src_root.glob(f"llama_cpp_python-{build.version}.tar.gz")), None)
    if sdist is None:
        log(f"downloading llama-cpp-python=={build.version} sdist (for its vendored MIT llama.cpp)")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"llama-cpp-python=={build.version}", "-d", str(src_root)], check=True,
                       capture_output=True, text=True)
        sdist = next(src_root.glob(f"llama_cpp_python-{build.version}.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(src_root, filter="data")
    return llama_dir


def _run_logged(cmd: list[str], log_file: Path, log: Callable[[str], None], progress_every: int = 10) -> None:
    with open(log_file, "a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        last = 0
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            match = _PROGRESS_RE.match(line)
            if match:
                done, total = int(match.group(1)), int(match.group(2))
                pct = 100 * done // total
                if pct >= last + progress_every or done == total:
                    last = pct
                    log(f"build progress [{done}/{total}] {pct}%")
        if proc.wait() != 0:
            raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}; full log: {log_file}")


def ensure_build(engine: EngineConfig, log: Callable[[str], None] = print) -> BuildInfo:
    """Return the engine's binaries, building them once if needed (serialized by a file lock)."""
    if engine.binary:
        return user_binary_info(engine.binary)
    build = engine.build
    key = build_key(build)
    root = engines_dir() / key
    info_file = root / "build.json"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if info_file.exists():
            info = BuildInfo(**json.loads(info_file.read_text()))
            if all(Path(p).exists() for p in info.tools.values()):
                return info
        started = time.perf_counter()
        llama_dir = fetch_sources(build, log)
        build_dir = root / "build"
        log_file = root / "build.log"
        cpu_flags = resolved_flags(build)
        flags = [*BASE_FLAGS, *cpu_flags]
        log(f"configuring llama.cpp {build.version} with {' '.join(cpu_flags)}")
        _run_logged([_find_tool("cmake"), "-S", str(llama_dir), "-B", str(build_dir), "-G", "Ninja",
                     f"-DCMAKE_MAKE_PROGRAM={_find_tool('ninja')}", *flags], log_file, log)
        jobs = str(os.cpu_count() or 2)
        _run_logged([_find_tool("cmake"), "--build", str(build_dir), "-j", jobs, "--target", *TOOLS], log_file, log)
        bin_dir = root / "bin"
        bin_dir.mkdir(exist_ok=True)
        for tool in TOOLS:
            shutil.copy2(build_dir / "bin" / tool, bin_dir / tool)
        version, commit = server_version(str(bin_dir / "llama-server"))
        info = BuildInfo(
            key=key, bin_dir=str(bin_dir), source=build.source, version=build.version,
            cmake_flags=cpu_flags, server_version=version, commit=commit,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.perf_counter() - started, 1),
            tools={t: str(bin_dir / t) for t in TOOLS},
        )
        info_file.write_text(json.dumps(info.to_dict(), indent=2))
        shutil.rmtree(build_dir, ignore_errors=True)
        return info


def user_binary_info(binary: str) -> BuildInfo:
    server = Path(binary).expanduser().resolve()
    if not server.exists():
        raise FileNotFoundError(f"engine binary {server} does not exist; fix 'binary:' in models.yaml or remove it to build from source")
    version, commit = server_version(str(server))
    tools = {"llama-server": str(server)}
    for tool in TOOLS[1:]:
        sibling = server.parent / tool
        if sibling.exists():
            tools[tool] = str(sibling)
    digest = hashlib.sha256(server.read_bytes()).hexdigest()[:12]
    return BuildInfo(key=f"user-{version}-{digest}", bin_dir=str(server.parent), source="user-binary",
                     version=version, cmake_flags=[], server_version=version, commit=commit,
                     user_binary=True, tools=tools)
