"""A real OpenLDAP server (Debian's `slapd`) on 127.0.0.1, with a directory the tests write.

Each `Slapd` runs a private `slapd` on a free port with its own configuration and database in a
temporary directory; `stop()` and `start()` take it down and bring it back with its data. Given a
certificate, it serves LDAPS only.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest

from tests.support.certs import Issued
from tests.support.waiting import wait_until

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "directory-root-secret"

_CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {home}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
database mdb
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {home}/db
overlay memberof
memberof-group-oc groupOfUniqueNames
memberof-member-ad uniqueMember
"""


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    givenname: str = ""
    sn: str = ""
    mail: str = ""
    unit: str = "people"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Slapd:
    """One slapd process and its directory."""

    def __init__(self, home: Path, tls: Issued | None = None) -> None:
        if not Path(SLAPD).exists():
            pytest.skip("OpenLDAP's slapd is not installed (Debian package slapd)")
        self.home = home
        (home / "db").mkdir(parents=True)
        config = _CONFIG.format(
            home=home, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD
        )
        self.tls = tls
        if tls is not None:
            (home / "server.pem").write_text(tls.certificate)
            (home / "server.key").write_text(tls.key)
            (home / "ca.pem").write_text(tls.chain)
            config += (
                f"TLSCertificateFile {home}/server.pem\n"
                f"TLSCertificateKeyFile {home}/server.key\n"
                f"TLSCACertificateFile {home}/ca.pem\n"
            )
        (home / "slapd.conf").write_text(config)
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.home / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(self.home / "slapd.conf"), "-h", self.url, "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process = self.process
        wait_until(lambda: _answers(self.port) or process.poll() is not None, 30, "slapd to listen")
        if process.poll() is not None:
            raise RuntimeError((self.home / "slapd.log").read_text())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    @property
    def url(self) -> str:
        scheme = "ldaps" if self.tls else "ldap"
        return f"{scheme}://127.0.0.1:{self.port}/"

    @property
    def ca_file(self) -> Path:
        """The PEM file of the authority that signed its certificate."""
        return self.home / "ca.pem"

    def admin(self) -> ldap3.Connection:
        tls = None
        if self.tls is not None:  # LDAPS only, checked against the authority that signed it
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_file))
        server = ldap3.Server("127.0.0.1", port=self.port, use_ssl=tls is not None, tls=tls)
        return ldap3.Connection(server, ROOT_DN, ROOT_PASSWORD, auto_bind=True)

    def populate(self, people: list[Person], groups: dict[str, list[str]]) -> None:
        """The base entry, an organisational unit per person's unit, the people and the groups
        (groupOfUniqueNames in ou=groups, members by uid)."""
        with self.admin() as connection:
            connection.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
            for unit in {person.unit for person in people} | {"groups"}:
                connection.add(f"ou={unit},{SUFFIX}", ["organizationalUnit"], {"ou": unit})
            for person in people:
                attributes = {"uid": person.uid, "cn": person.uid, "userPassword": person.password}
                attributes["sn"] = person.sn or person.uid
                if person.givenname:
                    attributes["givenName"] = person.givenname
                if person.mail:
                    attributes["mail"] = person.mail
                connection.add(self.person_dn(person), ["inetOrgPerson"], attributes)
                assert connection.result["result"] == 0, connection.result
            by_uid = {person.uid: person for person in people}
            for name, members in groups.items():
                connection.add(
                    f"cn={name},ou=groups,{SUFFIX}",
                    ["groupOfUniqueNames"],
                    {"cn": name, "uniqueMember": [self.person_dn(by_uid[m]) for m in members]},
                )
                assert connection.result["result"] == 0, connection.result

    @staticmethod
    def person_dn(person: Person) -> str:
        return f"uid={person.uid},ou={person.unit},{SUFFIX}"
