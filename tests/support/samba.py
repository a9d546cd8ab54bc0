"""A real Samba server (Debian's `smbd`) on 127.0.0.1, serving one share the tests write.

Each `Samba` runs a private `smbd` on a free port with a generated `smb.conf`, its databases,
locks and logs in a temporary directory; its one user is set with `smbpasswd` in a private
password database. Nothing outside that directory is touched. The SMB user is the system's
`nobody` account (Samba needs a Unix account behind each SMB user); files on the share are
read and written as the user running the tests (`force user`), who owns the directory.
"""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

import pytest

from tests.support.slapd import _answers, _free_port
from tests.support.waiting import wait_until

SMBD = "/usr/sbin/smbd"
SMBPASSWD = "/usr/bin/smbpasswd"
USER = "nobody"
SHARE = "images"

_CONFIG = """\
[global]
  netbios name = STRATUSTEST
  workgroup = WORKGROUP
  server role = standalone server
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = {port}
  disable netbios = yes
  server services = -nbt
  server min protocol = SMB2_10
  private dir = {home}/private
  lock directory = {home}/lock
  state directory = {home}/state
  cache directory = {home}/cache
  pid directory = {home}/pid
  ncalrpc dir = {home}/state/ncalrpc
  log file = {home}/log/smbd.log
  passdb backend = tdbsam:{home}/private/passdb.tdb
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = never
[{share}]
  path = {home}/share
  read only = no
  valid users = {user}
  force user = {owner}
"""


class Samba:
    """One smbd process, its share and its user."""

    def __init__(self, home: Path, password: str) -> None:
        if not Path(SMBD).exists():
            pytest.skip("Samba's smbd is not installed (Debian package samba)")
        self.home, self.password = home, password
        for part in ("private", "lock", "state", "cache", "pid", "log", "share"):
            (home / part).mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.config = home / "smb.conf"
        self.config.write_text(
            _CONFIG.format(
                home=home, port=self.port, share=SHARE, user=USER, owner=getpass.getuser()
            )
        )
        subprocess.run(
            [SMBPASSWD, "-c", str(self.config), "-a", "-s", USER],
            input=f"{password}\n{password}\n".encode(),
            check=True,
            capture_output=True,
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def share_dir(self) -> Path:
        return self.home / "share"

    def url(self, folder: str = "") -> str:
        """The share as an image store's URL (the password goes apart)."""
        tail = f"/{folder}" if folder else ""
        return f"cifs://127.0.0.1:{self.port}/{SHARE}{tail}?user={USER}"

    def start(self) -> None:
        log = (self.home / "log" / "stdout").open("ab")
        self.process = subprocess.Popen(
            [SMBD, "--foreground", "--no-process-group", "-s", str(self.config)],
            start_new_session=True,  # smbd signals its whole process group as it stops
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _answers(self.port), what="smbd to listen", timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
