"""Remote engines: an engine config with `url:` points at a llama-server someone else runs (a GPU box). Nothing is
built or started; the platform reads the server's `/props`, records its build and model path, measures with the
`timings` it returns, and refuses to score it as a catalog quant unless the file it serves is that quant's file.

What is checked (a remote file cannot be hashed from here): the served file's name must equal the catalog file's
original name (`source_file`) or the stored object's name, or contain the first 16 hex digits of its sha256.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx

from partitions.keys import slugify

from .build import BuildInfo
from .weights import WeightsManifest


class RemoteEngineError(RuntimeError):
    pass


def remote_props(url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    base = url.rstrip("/")
    try:
        response = httpx.get(f"{base}/props", timeout=timeout_s)
        response.raise_for_status()
        return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise RemoteEngineError(f"remote engine {base} did not answer /props: {type(exc).__name__}: {exc}") from None


def remote_build(url: str) -> BuildInfo:
    """The remote server's build as a BuildInfo: key = its build_info + the URL, so results from two servers never mix."""
    props = remote_props(url)
    build = str(props.get("build_info") or "unknown")
    key = f"remote-{slugify(build)}-{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    return BuildInfo(key=key, bin_dir="", source=url, version=build, cmake_flags=[], server_version=build,
                     user_binary=True, tools={})


def check_served_model(props: dict[str, Any], manifest: WeightsManifest, variant: str, url: str) -> str:
    """What the server serves, checked against the catalog's file; returns what matched, raises when nothing did."""
    served = Path(str(props.get("model_path") or "")).name
    source = Path((manifest.source_file or "").rsplit(":", 1)[-1]).name  # "package:file" or a hub path -> the file name
    checks = [("the catalog file name", source), ("the stored object name", Path(manifest.object_key).name)]
    for what, name in checks:
        if name and served == name:
            return f"{url} serves {served!r}: equals {what}"
    if manifest.sha256 and manifest.sha256[:16] in served:
        return f"{url} serves {served!r}: contains the catalog file's sha256 prefix {manifest.sha256[:16]}"
    raise RemoteEngineError(
        f"{url} serves {served or '(no model_path in /props)'!r}, not {variant}'s file {manifest.source_file!r} "
        f"(sha256 {manifest.sha256[:16]}): checked the served file name against the catalog file name, the stored "
        f"object name and the sha256 prefix; refusing to score it as {manifest.quant}")
