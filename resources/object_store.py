"""Object store for weights and raw artefacts: a local folder by default, S3 via dagster-aws when configured.

Keys are plain '/'-separated strings, the same for both backends, so moving from a laptop to a
bucket is a configuration switch. dagster_aws/boto3 are imported lazily (seconds of import time).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import PrivateAttr

from beyond_vibes_assets.settings import subdir

from .env import env_value


class ObjectStoreResource(dg.ConfigurableResource):
    kind: Literal["local", "s3"] = "local"
    root: str | None = None  # local folder; default BEYOND_VIBES_HOME/objects
    bucket: str | None = None
    prefix: str = "beyond-vibes"
    endpoint_url: str | None = None  # e.g. a SeaweedFS or MinIO server; None means AWS
    region_name: str = "us-east-1"

    _client: object = PrivateAttr(default=None)

    def _bucket(self) -> str | None:
        return env_value(self.bucket)

    def _root(self) -> Path:
        path = Path(self.root).expanduser().resolve() if self.root else subdir("objects")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _s3(self):
        if self._client is None:
            from dagster_aws.s3 import S3Resource  # lazy: heavy import

            if not self._bucket():
                raise ValueError("object store kind 's3' needs 'bucket'")
            self._client = S3Resource(endpoint_url=env_value(self.endpoint_url), region_name=self.region_name).get_client()
        return self._client

    def _s3_key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        if self.kind == "s3":
            return f"s3://{self._bucket()}/{self._s3_key(key)}"
        return (self._root() / key).as_uri()

    def local_path(self, key: str) -> Path | None:
        """The object's path when the store is a local folder (no copy needed to serve it)."""
        return self._root() / key if self.kind == "local" else None

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        if self.kind == "local":
            path = self._root() / key
            return path.stat().st_size if path.exists() else None
        from botocore.exceptions import ClientError

        try:
            return int(self._s3().head_object(Bucket=self._bucket(), Key=self._s3_key(key))["ContentLength"])
        except ClientError:
            return None

    def put_file(self, key: str, source: Path) -> str:
        if self.kind == "local":
            target = self._root() / key
            target.parent.mkdir(parents=True, exist_ok=True)
            if Path(source).resolve() != target.resolve():
                tmp = target.with_suffix(target.suffix + ".partial")
                shutil.copyfile(source, tmp)
                tmp.replace(target)  # atomic: a reader never sees half a file
        else:
            self._s3().upload_file(str(source), self._bucket(), self._s3_key(key))
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        if self.kind == "local":
            target = self._root() / key
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".partial")
            tmp.write_bytes(data)
            tmp.replace(target)
        else:
            self._s3().put_object(Bucket=self._bucket(), Key=self._s3_key(key), Body=data)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes | None:
        if self.kind == "local":
            path = self._root() / key
            return path.read_bytes() if path.exists() else None
        if not self.exists(key):
            return None
        return self._s3().get_object(Bucket=self._bucket(), Key=self._s3_key(key))["Body"].read()

    def fetch(self, key: str, dest: Path) -> Path:
        """A local copy of the object (the object itself for a local store)."""
        local = self.local_path(key)
        if local is not None:
            return local
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists() or dest.stat().st_size != self.size(key):
            tmp = dest.with_suffix(dest.suffix + ".partial")
            self._s3().download_file(self._bucket(), self._s3_key(key), str(tmp))
            tmp.replace(dest)
        return dest
