"""HuggingFace hub downloads with huggingface_hub: the GGUF matching a quant tag, pinned and resumable.

Real code, used as is against the hub; offline (HF_HUB_OFFLINE=1 or `offline: true`) it resolves from
the local hub cache layout, which is how it is tested here (no network).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dagster as dg


def match_quant_files(filenames: list[str], quant: str) -> list[str]:
    """GGUF files whose name carries the quant tag as a token (Q4_K_M does not match Q4_K_M_L or IQ4)."""
    pattern = re.compile(rf"(^|[-._/]){re.escape(quant)}([-._]|$)", re.IGNORECASE)
    hits = [f for f in filenames if f.lower().endswith(".gguf") and pattern.search(Path(f).stem + ".")]
    shards = [f for f in hits if re.search(r"-0*1-of-\d+\.gguf$", f)]
    singles = [f for f in hits if not re.search(r"-\d+-of-\d+\.gguf$", f)]
    return singles or shards


class HuggingFaceResource(dg.ConfigurableResource):
    cache_dir: str | None = None
    offline: bool | None = None  # None: follow HF_HUB_OFFLINE
    token_env: str = "HF_TOKEN"

    def _offline(self) -> bool:
        if self.offline is not None:
            return self.offline
        return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")

    def list_files(self, repo_id: str, revision: str | None) -> tuple[list[str], str | None]:
        """(file names, resolved commit) of the repo at revision."""
        if self._offline():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(repo_id, revision=revision, cache_dir=self.cache_dir, local_files_only=True,
                                            allow_patterns=["*.gguf"]))
            files = [str(p.relative_to(folder)) for p in folder.rglob("*.gguf")]
            return files, folder.name
        from huggingface_hub import HfApi

        info = HfApi(token=os.environ.get(self.token_env)).model_info(repo_id, revision=revision, files_metadata=False)
        return [s.rfilename for s in info.siblings or []], info.sha

    def download(self, repo_id: str, quant: str, revision: str | None = None) -> tuple[Path, str, str | None]:
        """(local path, file name, commit) of the GGUF for this quant."""
        from huggingface_hub import hf_hub_download

        files, commit = self.list_files(repo_id, revision)
        matches = match_quant_files(files, quant)
        if not matches:
            raise FileNotFoundError(f"{repo_id}@{revision or 'main'} has no GGUF for quant {quant!r}; files: {sorted(files)[:20]}")
        if len(matches) > 1:
            raise ValueError(f"{repo_id} has several GGUFs for {quant!r}: {matches}; use a more specific quant tag")
        path = hf_hub_download(repo_id, matches[0], revision=commit or revision, cache_dir=self.cache_dir,
                               local_files_only=self._offline(), token=os.environ.get(self.token_env))
        return Path(path), matches[0], commit
