"""LDAP against real OpenLDAP servers: two servers holding one directory, tried in order; its
users listed, made accounts one by one or by group, and logging in with their directory
password; nothing of a password kept or shown; names that would widen a search stay names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cs import CloudStackApiException

from tests.e2e.factories import make_tenant
from tests.e2e.legs import Deployment, deployed
from tests.e2e.sandbox import Sandbox
from tests.support.certs import issued
from tests.support.slapd import ROOT_DN, ROOT_PASSWORD, SUFFIX, Person, Slapd

PEOPLE = [
    Person("alice", "wonderland-9", "Alice", "Liddell", "alice@example.org"),
    Person("bob", "builder-42", "Bob", "Builder", "bob@example.org"),
    Person("carol", "carol-sings", "Carol", "Singer", "carol@example.org"),
    Person("dave", "dave-codes", "Dave", "Coder", "dave@example.org", unit="engineering"),
    Person("nomail", "no-mail-1", "No", "Mail"),
]
GROUPS = {"devs": ["alice", "dave"], "ops": ["bob"]}
BIND_PASSWORD = ROOT_PASSWORD  # the directory's own password: never shown by the cloud


@dataclass
class Directory:
    primary: Slapd  # added first, as 127.0.0.1
    secondary: Slapd  # added second, as localhost


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    servers = []
    try:
        for name in ("primary", "secondary"):
            slapd = Slapd(tmp_path_factory.mktemp(f"slapd-{name}"))
            servers.append(slapd)
            slapd.start()
            slapd.populate(PEOPLE, GROUPS)
        yield Directory(*servers)
    finally:
        for slapd in servers:
            slapd.stop()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def ldap_leg(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    directory: Directory,
) -> Iterator[Deployment]:
    """A cloud whose LDAP settings point at the directory, with both servers added."""
    with deployed(request.param, tmp_path_factory.mktemp(request.param)) as deployment:
        root = deployment.server.client()
        for name, value in (
            ("ldap.basedn", SUFFIX),
            ("ldap.bind.principal", ROOT_DN),
            ("ldap.bind.password", BIND_PASSWORD),
        ):
            root.updateConfiguration(name=name, value=value)
        root.addLdapConfiguration(hostname="127.0.0.1", port=directory.primary.port)
        root.addLdapConfiguration(hostname="localhost", port=directory.secondary.port)
        yield deployment


@pytest.fixture
def sandbox(ldap_leg: Deployment) -> Sandbox:
    return Sandbox.open(ldap_leg)


def _refused(call: Any, code: int, **params: Any) -> str:
    with pytest.raises(CloudStackApiException) as refused:
        call(**params)
    assert refused.value.error["errorcode"] == code, refused.value.error
    return str(refused.value.error["errortext"])


def _login(sandbox: Sandbox, username: str, password: str, domain: str) -> httpx.Response:
    form = {"command": "login", "username": username, "password": password, "domain": domain}
    return httpx.post(sandbox.server.url, data={**form, "response": "json"})


def _usernames(listed: dict) -> list[str]:
    return [user["username"] for user in listed.get("LdapUser", [])]


def test_servers_are_checked_before_they_are_added_and_listed_in_order(
    sandbox: Sandbox, directory: Directory
) -> None:
    root = sandbox.server.client()
    user = make_tenant(sandbox, sandbox.client()).client
    ports = [directory.primary.port, directory.secondary.port]
    listed = root.listLdapConfigurations()
    assert [(c["hostname"], c["port"]) for c in listed["LdapConfiguration"]] == list(
        zip(["127.0.0.1", "localhost"], ports, strict=True)
    )
    assert user.listLdapConfigurations(hostname="localhost")["count"] == 1  # 4.3: anyone lists
    _refused(root.addLdapConfiguration, 431, hostname="127.0.0.1", port=ports[0])  # duplicate
    closed = directory.primary.port + 1 if directory.primary.port < 65535 else 1
    text = _refused(root.addLdapConfiguration, 431, hostname="127.0.0.2", port=closed)
    assert text == "Unable to bind to the given LDAP server"
    _refused(user.addLdapConfiguration, 432, hostname="127.0.0.2", port=ports[0])
    _refused(root.deleteLdapConfiguration, 431, hostname="ldap.invalid")
    removed = root.deleteLdapConfiguration(hostname="localhost")
    assert removed["LdapDeleteConfiguration"] == {"hostname": "localhost", "port": ports[1]}
    assert root.listLdapConfigurations()["count"] == 1
    root.addLdapConfiguration(hostname="localhost", port=ports[1])
    hosts = [c["hostname"] for c in root.listLdapConfigurations()["LdapConfiguration"]]
    assert hosts == ["127.0.0.1", "localhost"]


def test_the_bind_password_is_sealed_and_never_shown(sandbox: Sandbox) -> None:
    root = sandbox.server.client()
    shown = root.listConfigurations(name="ldap.bind.password")["configuration"]
    assert [c["value"] for c in shown] == ["********"]
    assert root.listConfigurations(name="ldap.basedn")["configuration"][0]["value"] == SUFFIX
    data = sandbox.server.data_dir
    for path in [*data.rglob("*"), sandbox.server.log]:
        if path.is_file():
            assert BIND_PASSWORD.encode() not in path.read_bytes(), path


def test_directory_users_are_listed_all_or_only_the_new(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    everyone = admin.listLdapUsers()
    assert _usernames(everyone) == ["alice", "bob", "carol", "dave", "nomail"]
    alice = next(u for u in everyone["LdapUser"] if u["username"] == "alice")
    assert alice == {
        "username": "alice",
        "firstname": "Alice",
        "lastname": "Liddell",
        "email": "alice@example.org",
        "principal": f"uid=alice,ou=people,{SUFFIX}",
        "domain": "people",
    }
    assert _usernames(admin.listLdapUsers(keyword="ar")) == ["carol"]
    assert admin.listLdapUsers(page=2, pagesize=2)["count"] == 5
    _refused(admin.listLdapUsers, 431, listtype="some")
    user = make_tenant(sandbox, admin).client
    _refused(user.listLdapUsers, 432)


def test_an_account_made_for_a_directory_user_logs_in_with_the_directory_password(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    made = admin.ldapCreateAccount(username="carol", accounttype=0, domainid=sandbox.domain_id)
    account = made["account"]
    assert account["name"] == "carol" and account["accounttype"] == 0
    assert account["user"][0]["email"] == "carol@example.org"
    assert account["user"][0]["firstname"] == "Carol"
    assert "carol" not in _usernames(admin.listLdapUsers(listtype="new"))
    domain = sandbox.domain_name
    answered = _login(sandbox, "carol", "carol-sings", domain)
    assert answered.status_code == 200, answered.text
    assert answered.json()["loginresponse"]["account"] == "carol"
    assert _login(sandbox, "carol", "wrong", domain).status_code == 401
    assert _login(sandbox, "carol", "", domain).status_code == 431  # never an anonymous bind
    text = _refused(
        admin.ldapCreateAccount, 534, username="zed", accounttype=0, domainid=sandbox.domain_id
    )
    assert text == "No LDAP user exists with the username of zed"
    text = _refused(
        admin.ldapCreateAccount, 431, username="nomail", accounttype=0, domainid=sandbox.domain_id
    )
    assert "no email address" in text
    assert admin.listAccounts(name="nomail", domainid=sandbox.domain_id) == {}


def test_names_that_would_widen_a_search_stay_names(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    for name in ("*", "a*", "alice)(uid=*", "*)(|(uid=*"):
        _refused(admin.ldapCreateAccount, 534, username=name, accounttype=0)
    # A user of the cloud whose name is a pattern cannot log in with a directory user's password.
    make_tenant(sandbox, admin, name="al*")
    assert _login(sandbox, "al*", "wonderland-9", sandbox.domain_name).status_code == 401
    assert _login(sandbox, "*", "wonderland-9", sandbox.domain_name).status_code == 401


def test_a_group_is_imported_into_a_domain_and_its_members_log_in(sandbox: Sandbox) -> None:
    admin = sandbox.client()
    imported = admin.importLdapUsers(accounttype=0, group="devs", domainid=sandbox.domain_id)
    assert _usernames(imported) == ["alice", "dave"]
    assert {u["domain"] for u in imported["LdapUser"]} == {sandbox.domain_name}
    accounts = admin.listAccounts(domainid=sandbox.domain_id)["account"]
    assert {"alice", "dave"} <= {a["name"] for a in accounts}
    assert _login(sandbox, "dave", "dave-codes", sandbox.domain_name).status_code == 200
    again = admin.importLdapUsers(accounttype=0, group="devs", domainid=sandbox.domain_id)
    assert again == {}  # each was there already: skipped, as 4.3 skips them
    into_one = admin.importLdapUsers(
        accounttype=0, group="ops", account="operators", domainid=sandbox.domain_id
    )
    assert _usernames(into_one) == ["bob"]
    team = admin.listAccounts(name="operators", domainid=sandbox.domain_id)["account"][0]
    assert [u["username"] for u in team["user"]] == ["bob"]
    assert admin.importLdapUsers(accounttype=0, group="nobody-here") == {}


def test_login_goes_on_to_the_second_server_when_the_first_is_down(
    sandbox: Sandbox, directory: Directory
) -> None:
    admin = sandbox.client()
    admin.ldapCreateAccount(username="bob", accounttype=0, domainid=sandbox.domain_id)
    directory.primary.stop()
    try:
        answered = _login(sandbox, "bob", "builder-42", sandbox.domain_name)
        assert answered.status_code == 200, answered.text
        assert _login(sandbox, "bob", "wrong", sandbox.domain_name).status_code == 401
        assert "bob" in _usernames(admin.listLdapUsers())
    finally:
        directory.primary.start()


def test_the_search_group_keeps_other_users_out(sandbox: Sandbox) -> None:
    root = sandbox.server.client()
    admin = sandbox.client()
    admin.ldapCreateAccount(username="alice", accounttype=0, domainid=sandbox.domain_id)
    admin.ldapCreateAccount(
        username="bob", account="bob-the-user", accounttype=0, domainid=sandbox.domain_id
    )
    root.updateConfiguration(name="ldap.search.group.principle", value=f"cn=ops,ou=groups,{SUFFIX}")
    try:
        assert _usernames(admin.listLdapUsers()) == ["bob"]
        assert _login(sandbox, "bob", "builder-42", sandbox.domain_name).status_code == 200
        assert _login(sandbox, "alice", "wonderland-9", sandbox.domain_name).status_code == 401
    finally:
        root.updateConfiguration(name="ldap.search.group.principle", value="")


def test_servers_are_reached_over_ldaps_and_checked_against_the_truststore(
    server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    secure = Slapd(
        tmp_path_factory.mktemp("slapd-ldaps"), tls=issued("localhost", addresses=("127.0.0.1",))
    )
    secure.start()
    try:
        secure.populate(PEOPLE[:1], {})
        root = server.client()
        for name, value in (
            ("ldap.basedn", SUFFIX),
            ("ldap.bind.principal", ROOT_DN),
            ("ldap.bind.password", BIND_PASSWORD),
        ):
            root.updateConfiguration(name=name, value=value)
        # Without a truststore the server is spoken to in plain LDAP, which an LDAPS port refuses.
        _refused(root.addLdapConfiguration, 431, hostname="127.0.0.1", port=secure.port)
        root.updateConfiguration(name="ldap.truststore", value=str(secure.ca_file))
        root.addLdapConfiguration(hostname="127.0.0.1", port=secure.port)
        root.ldapCreateAccount(username="alice", accounttype=0)
        form = {"command": "login", "username": "alice", "password": "wonderland-9"}
        assert httpx.post(server.url, data={**form, "response": "json"}).status_code == 200
        # A server whose certificate the truststore's authorities did not sign is not believed.
        stranger = tmp_path_factory.mktemp("other-ca") / "ca.pem"
        stranger.write_text(issued("localhost", addresses=("127.0.0.1",)).chain)
        root.updateConfiguration(name="ldap.truststore", value=str(stranger))
        assert httpx.post(server.url, data={**form, "response": "json"}).status_code != 200
    finally:
        secure.stop()


def test_an_account_made_for_a_directory_user_takes_the_ids_it_was_given(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    account_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    made = admin.ldapCreateAccount(
        username="dave",
        accounttype=0,
        domainid=sandbox.domain_id,
        accountid=account_id,
        userid=user_id,
    )["account"]
    assert (made["id"], made["user"][0]["id"]) == (account_id, user_id)
    assert admin.listUsers(id=user_id)["user"][0]["username"] == "dave"
    _refused(
        admin.ldapCreateAccount,
        431,
        username="alice",
        accounttype=0,
        domainid=sandbox.domain_id,
        accountid=account_id,
    )
    assert admin.listAccounts(name="alice", domainid=sandbox.domain_id) == {}


def test_accounts_made_from_the_directory_keep_the_details_they_were_given(
    sandbox: Sandbox,
) -> None:
    admin = sandbox.client()
    details = {"accountdetails[0].key": "source", "accountdetails[0].value": "ldap"}
    made = admin.ldapCreateAccount(
        username="carol", accounttype=0, domainid=sandbox.domain_id, **details
    )["account"]
    assert made["accountdetails"] == {"source": "ldap"}
    admin.importLdapUsers(accounttype=0, group="devs", domainid=sandbox.domain_id, **details)
    for name in ("alice", "dave"):
        (account,) = admin.listAccounts(name=name, domainid=sandbox.domain_id)["account"]
        assert account["accountdetails"] == {"source": "ldap"}
    half = {"accountdetails[0].key": "source"}
    _refused(
        admin.importLdapUsers, 431, accounttype=0, group="ops", domainid=sandbox.domain_id, **half
    )
    assert admin.listAccounts(name="bob", domainid=sandbox.domain_id) == {}
