"""SSL certificates of load balancers: uploadSslCert, deleteSslCert, listSslCerts (an account's
own; synchronous, as 4.3), assignCertToLoadBalancer and removeCertFromLoadBalancer (applied by
the network's router under a job). No answer, read model, log line or event holds a private
key or a password in clear: the key is sealed in the certificate's events and travels to the
router only inside the request's seal.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import check_reach
from api.cloudstack.network_rules import job_spec, rule_for, submitted, write
from api.dispatch import ApiCommand, Call, Listing, Submitted
from api.params import Param, ParamType, not_found
from commands import network_rules as rules_cmd
from commands import ssl_certs as cmd
from domain.errors import InvalidParameter, PermissionDenied
from domain.network_rule_checks import RuleKind
from domain.values import Secret
from projections.ssl_certs import cert_rows

P = ParamType
PKG = "org.apache.cloudstack.api.command.user.loadbalancer"
LB = RuleKind.LOAD_BALANCING


def _render(row: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "id": row["id"],
        "certificate": row["certificate"],
        "fingerprint": row["fingerprint"],
        "account": row["account_name"],
        "loadbalancerrulelist": ",".join(row["rule_ids"]),
    }
    if row["chain"]:
        answer["certchain"] = row["chain"]
    return answer


def _cert(call: Call, cert_id: str, name: str = "id") -> dict[str, Any]:
    """A certificate the caller may act on."""
    with call.read() as cursor:
        found = cert_rows(cursor, "s.id = %s", [cert_id])
    if not found:
        raise not_found(name, cert_id)
    row = found[0]
    check_reach(
        call.caller,
        account_id=row["account_id"],
        domain_path=row["domain_path"],
        what="the certificate",
    )
    return row


def upload(call: Call, args: dict[str, Any]) -> dict[str, Any]:
    command = cmd.UploadSslCert(
        UUID(call.caller.account_id),
        UUID(call.caller.domain_id),
        args["certificate"],
        Secret(args["privatekey"]),
        args["certchain"],
        Secret(args["password"]) if args["password"] else None,
    )
    outcome = call.write(cmd.upload_ssl_cert, command)
    return _render(_cert(call, str(outcome.id)))


def delete(call: Call, args: dict[str, Any]) -> None:
    row = _cert(call, args["id"])
    call.write(lambda store, _: cmd.delete_ssl_cert(store, UUID(row["id"])), None)


def list_certs(call: Call, args: dict[str, Any]) -> Listing:
    """As 4.3: by certificate, by load balancer or by account; one of them is needed."""
    where, params = [], []
    if args["certid"]:
        where.append("s.id = %s")
        params.append(args["certid"])
    if args["lbruleid"]:
        rule = rule_for(call, args["lbruleid"], LB, "lbruleid")
        where.append("s.id = %s")
        params.append(rule["cert_id"] or "")
    if args["accountid"]:
        where.append("s.account_id = %s")
        params.append(args["accountid"])
    if not where:
        raise InvalidParameter(
            "Invalid parameters either certificate ID or Account ID or Loadbalancer ID required"
        )
    with call.read() as cursor:
        rows = cert_rows(cursor, " AND ".join(where), params)
    mine = []
    for row in rows:
        try:
            check_reach(
                call.caller,
                account_id=row["account_id"],
                domain_path=row["domain_path"],
                what="the certificate",
            )
        except PermissionDenied:  # out of reach: not listed
            continue
        mine.append(_render(row))
    return Listing(mine, len(mine))


def _bind(call: Call, args: dict[str, Any], cert_id: UUID | None) -> Submitted:
    rule = rule_for(call, args["lbruleid"], LB, "lbruleid")
    verb = "Assigning a certificate to" if cert_id else "Removing the certificate from"
    event = "LB.CERT.ASSIGN" if cert_id else "LB.CERT.REMOVE"
    spec = job_spec(call, call.command.java_class, event, f"{verb} {rule['name']}")
    command = rules_cmd.BindCert(UUID(rule["network_id"]), UUID(rule["id"]), cert_id, spec)
    return submitted(call, write(call, rules_cmd.bind_cert, command), creates=False)


def assign(call: Call, args: dict[str, Any]) -> Submitted:
    cert = _cert(call, args["certid"], "certid")
    return _bind(call, args, UUID(cert["id"]))


def remove(call: Call, args: dict[str, Any]) -> Submitted:
    return _bind(call, args, None)


PEM = 65536  # certificates, keys and chains are PEM texts of a few KiB

COMMANDS = (
    ApiCommand(
        "uploadSslCert",
        upload,
        (
            Param("certificate", P.STRING, required=True, max_length=PEM),
            Param("privatekey", P.STRING, required=True, max_length=PEM),
            Param("certchain", P.STRING, max_length=PEM),
            Param("password", P.STRING),
        ),
        item_key="sslcert",
        java_class=f"{PKG}.UploadSslCertCmd",
        description="Upload a certificate to cloudstack",
    ),
    ApiCommand(
        "deleteSslCert",
        delete,
        (Param("id", P.UUID, required=True),),
        shape="success",
        java_class=f"{PKG}.DeleteSslCertCmd",
        description="Delete a certificate to cloudstack",
    ),
    ApiCommand(
        "listSslCerts",
        list_certs,
        (Param("accountid", P.UUID), Param("certid", P.UUID), Param("lbruleid", P.UUID)),
        shape="list",
        paged=False,
        item_key="sslcert",
        java_class=f"{PKG}.ListSslCertsCmd",
        description="Lists SSL certificates",
    ),
    ApiCommand(
        "assignCertToLoadBalancer",
        assign,
        (Param("certid", P.UUID, required=True), Param("lbruleid", P.UUID, required=True)),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.AssignCertToLoadBalancerCmd",
        description="Assigns a certificate to a Load Balancer Rule",
    ),
    ApiCommand(
        "removeCertFromLoadBalancer",
        remove,
        (Param("lbruleid", P.UUID, required=True),),
        shape="async",
        is_async=True,
        java_class=f"{PKG}.RemoveCertFromLoadBalancerCmd",
        description="Removes a certificate from a Load Balancer Rule",
    ),
)
