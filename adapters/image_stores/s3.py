"""An S3 image store (or any S3-protocol object store), reached with `boto3`.

Requests are signed with signature version 4, path-style (a bucket name with dots works over
HTTPS too). An object up to `PART` bytes is one PUT with its Content-MD5; a larger one is a
multipart upload of `PART`-byte parts, each with its Content-MD5 and SHA-256 checksum, which
the store checks as it takes them; a failure aborts the upload, so no part is left behind.
4.3's `connectiontimeout` and `sockettimeout` are milliseconds, `maxerrorretry` a count.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from adapters import AuthenticationError
from adapters.image_stores import CHUNK, StoreError, StoreSpec, checked_path

PART = 8 * 1024 * 1024  # S3 asks at least 5 MiB of every part but the last
REGION = "us-east-1"
_REFUSED = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "403"}
)


class S3Store:
    """Objects are keys of the store's bucket."""

    def __init__(self, spec: StoreSpec, part_size: int = PART) -> None:
        details = spec.details
        self.url, self.bucket, self.part_size = spec.url, details.get("bucket", ""), part_size
        https = details.get("usehttps", "true").lower() == "true"
        endpoint = details.get("endpoint") or "s3.amazonaws.com"
        config = Config(
            signature_version="s3v4",
            region_name=REGION,
            s3={"addressing_style": "path"},
            connect_timeout=_seconds(details.get("connectiontimeout"), 10.0),
            read_timeout=_seconds(details.get("sockettimeout"), 60.0),
            retries={"max_attempts": int(details.get("maxerrorretry") or 3), "mode": "standard"},
        )
        self._s3: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=f"{'https' if https else 'http'}://{endpoint}",
            aws_access_key_id=details.get("accesskey", ""),
            aws_secret_access_key=spec.secrets.get("secretkey", ""),
            config=config,
        )
        self._call("reach the bucket of", self._s3.head_bucket, Bucket=self.bucket)

    def _call(self, doing: str, operation: Any, **kwargs: Any) -> Any:
        try:
            return operation(**kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _REFUSED:
                raise AuthenticationError(
                    f"the S3 store {self.url} refused the access key and secret key"
                ) from None
            if code in ("NoSuchBucket", "404") and operation == self._s3.head_bucket:
                raise StoreError(f"the S3 store {self.url} has no bucket {self.bucket}") from None
            raise StoreError(f"cannot {doing} the S3 store {self.url}: {code}") from None
        except EndpointConnectionError:
            raise StoreError(f"cannot reach the S3 store {self.url}") from None
        except BotoCoreError as error:
            raise StoreError(
                f"cannot {doing} the S3 store {self.url}: {type(error).__name__}"
            ) from None

    def put(self, path: str, blocks: Iterable[bytes]) -> int:
        key = checked_path(path)
        source = _parts(blocks, self.part_size)
        first = next(source)
        if len(first) < self.part_size:
            self._call(
                "write to", self._s3.put_object, Bucket=self.bucket, Key=key, Body=first,
                ContentMD5=_md5(first),
            )  # fmt: skip
            return len(first)
        return self._multipart(key, first, source)

    def _multipart(self, key: str, first: bytes, source: Iterator[bytes]) -> int:
        started = self._call(
            "start an upload to", self._s3.create_multipart_upload, Bucket=self.bucket, Key=key,
            ChecksumAlgorithm="SHA256",
        )  # fmt: skip
        upload_id, parts, written, body = started["UploadId"], [], 0, first
        try:
            while body:
                number = len(parts) + 1
                sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
                answer = self._call(
                    "write to", self._s3.upload_part, Bucket=self.bucket, Key=key,
                    UploadId=upload_id, PartNumber=number, Body=body, ContentMD5=_md5(body),
                    ChecksumAlgorithm="SHA256", ChecksumSHA256=sha,
                )  # fmt: skip
                parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": sha})
                written += len(body)
                body = next(source, b"")
            self._call(
                "complete an upload to", self._s3.complete_multipart_upload, Bucket=self.bucket,
                Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts},
            )  # fmt: skip
        except BaseException:
            # An abort that fails too leaves the parts to the bucket's lifecycle rules.
            with contextlib.suppress(ClientError, BotoCoreError):
                self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return written

    def read(self, path: str) -> Iterator[bytes]:
        answer = self._call(
            "read from", self._s3.get_object, Bucket=self.bucket, Key=checked_path(path)
        )
        body = answer["Body"]
        try:
            while block := body.read(CHUNK):
                yield block
        finally:
            body.close()

    def size(self, path: str) -> int | None:
        try:
            answer = self._s3.head_object(Bucket=self.bucket, Key=checked_path(path))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey"):
                return None
            raise StoreError(f"cannot read from the S3 store {self.url}") from None
        except BotoCoreError:
            raise StoreError(f"cannot reach the S3 store {self.url}") from None
        return int(answer["ContentLength"])

    def delete(self, path: str) -> bool:
        if self.size(path) is None:
            return False
        self._call("delete from", self._s3.delete_object, Bucket=self.bucket, Key=path)
        return True

    def multipart_uploads(self) -> list[str]:
        """Keys of uploads begun and neither completed nor aborted."""
        found = self._call("list", self._s3.list_multipart_uploads, Bucket=self.bucket)
        return [u["Key"] for u in found.get("Uploads", [])]

    def close(self) -> None:
        self._s3.close()


def _parts(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The blocks regrouped into parts of `size` bytes; the last may be shorter (or empty
    when there are no bytes at all)."""
    pending = bytearray()
    for block in blocks:
        pending += block
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    yield bytes(pending)


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def _seconds(milliseconds: str | None, default: float) -> float:
    return int(milliseconds) / 1000 if milliseconds and int(milliseconds) > 0 else default
