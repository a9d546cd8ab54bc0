"""A real S3-protocol HTTP server on 127.0.0.1: moto's standalone server (`moto_server`),
run as its own process on a free port. Clients reach it over HTTP with signature v4, as they
reach any S3 endpoint; its buckets live in that process's memory and go with it.

The server checks every request's signature: its first three requests (unsigned) make an IAM
user allowed all of S3 and that user's access key, and from then on only that key's signature
is accepted (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.slapd import _answers, _free_port
from tests.support.waiting import wait_until

_ALLOW_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


class S3Server:
    """One moto_server process."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.access_key, self.secret_key = "", ""

    @property
    def endpoint(self) -> str:
        """As addImageStore's `endpoint` detail takes it: host:port."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.home / "moto.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3"),
        )
        wait_until(lambda: _answers(self.port), what="moto_server to listen", timeout=60)
        iam = boto3.session.Session().client(
            "iam", endpoint_url=f"http://{self.endpoint}", region_name="us-east-1",
            aws_access_key_id="unsigned", aws_secret_access_key="unsigned",
        )  # fmt: skip
        iam.create_user(UserName="stratus")
        iam.put_user_policy(
            UserName="stratus", PolicyName="s3", PolicyDocument=json.dumps(_ALLOW_S3)
        )
        key = iam.create_access_key(UserName="stratus")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def client(self) -> object:
        """A boto3 client of the server, for a test to look into its buckets."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=f"http://{self.endpoint}",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(signature_version="s3v4", region_name="us-east-1",
                          s3={"addressing_style": "path"}),
        )  # fmt: skip

    def bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket).get("Contents", [])  # type: ignore[attr-defined]
        return [o["Key"] for o in listed]

    def objects(self, bucket: str) -> dict[str, bytes]:
        s3: object = self.client()
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])  # type: ignore[attr-defined]
        return {
            o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()  # type: ignore[attr-defined]
            for o in listed
        }
