"""One store for the files the service keeps (attachments, and the files a backup carries), by key.

The default is the local folder CASEWORK_UPLOAD_DIR, a key being a path below it (the layout installations
already have). With CASEWORK_STORAGE_URL=s3://bucket/prefix the files live in S3-compatible object storage
(MinIO, Ceph RGW, Aliyun OSS, Tencent COS, Huawei OBS); boto3 takes the endpoint and keys from its own
variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and is imported only then. Files are
always served by the app after its access checks: no bucket URL or presigned link is ever handed out.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from flask import current_app


class StoreError(Exception):
    """The store could not be reached or refused an operation."""


def _parts(key: str) -> tuple[str, ...]:
    parts = tuple(key.split("/"))
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return parts


class FolderStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self):
        return f"folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_parts(key))

    def put(self, key: str, data: bytes, exclusive: bool = False) -> None:
        path = self._path(key)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        with os.fdopen(os.open(path, flags, 0o600), "wb") as fh:
            fh.write(data)

    def put_file(self, key: str, source: Path) -> None:
        """Moves `source` in (a rename when on the same file system)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.replace(source, target)
        except OSError:
            shutil.move(source, target)  # another file system

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(f.relative_to(self.root).as_posix() for f in self.root.rglob("*") if f.is_file())

    def staging_dir(self) -> Path | None:
        """Where a restore stages files so that moving them in is a rename."""
        return self.root.parent if self.root.parent.is_dir() else None


class S3Store:
    def __init__(self, bucket: str, prefix: str, client=None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client = client

    def __repr__(self):
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def client(self):
        if self._client is None:
            import boto3  # only when object storage is configured: the folder default needs no boto3
            from botocore.config import Config
            self._client = boto3.client("s3", config=Config(retries={"mode": "standard"}))
        return self._client

    def _key(self, key: str) -> str:
        joined = "/".join(_parts(key))
        return f"{self.prefix}/{joined}" if self.prefix else joined

    def _call(self, method, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(kwargs.get("Key")) from None
            raise StoreError(f"{self!r}: {exc.response.get('Error', {}).get('Code')} on {method}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"{self!r}: {exc}") from exc

    def put(self, key: str, data: bytes, exclusive: bool = False) -> None:
        # Keys written exclusively are fresh random tokens: a collision is not a case to guard with a read.
        self._call("put_object", Key=self._key(key), Body=data)

    def put_file(self, key: str, source: Path) -> None:
        self.put(key, Path(source).read_bytes())
        Path(source).unlink(missing_ok=True)

    def get(self, key: str) -> bytes | None:
        try:
            return self._call("get_object", Key=self._key(key))["Body"].read()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", Key=self._key(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=self._key(key))

    def keys(self) -> list[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        token = None
        while True:
            page = self._call("list_objects_v2", Prefix=start, **({"ContinuationToken": token} if token else {}))
            found += [o["Key"][len(start):] for o in page.get("Contents", ())]
            if not page.get("IsTruncated"):
                return sorted(found)
            token = page["NextContinuationToken"]

    def staging_dir(self) -> Path | None:
        return None


def from_config(config) -> FolderStore | S3Store:
    target = config.get("CASEWORK_STORAGE")
    if target and target[0] == "s3":
        return S3Store(target[1], target[2])
    return FolderStore(config["CASEWORK_UPLOAD_DIR"])


def store() -> FolderStore | S3Store:
    """This app's store (one per app, so boto3's client and its connections are shared by its threads)."""
    app = current_app._get_current_object()
    found = app.extensions.get("casework_store")
    if found is None:
        found = app.extensions["casework_store"] = from_config(app.config)
    return found
