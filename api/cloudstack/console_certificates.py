"""uploadCustomCertificate: the certificate the console proxies serve, for a domain suffix.

Uploaded one at a time as 4.3 takes them: the chain's certificates with their place (`id`, 1
for the top) and no key, then the server certificate with its key. The key is sealed and
shown nowhere. Once the server certificate is in, the running console proxies and storage VMs
are rebooted, as 4.3 does, to take it up.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.access import Role
from api.cloudstack.jobs import run_async
from api.dispatch import ApiCommand, Call, Submitted
from api.params import Param, ParamType
from commands import console_certificates as cmd
from domain.console_certificates import ConsoleCertificates
from domain.system_vm import SYSTEM_VM_ROLES
from domain.values import Secret

P = ParamType
ITEM = "customcertificate"
MESSAGE = (
    "Certificate has been successfully updated, if its the server certificate we would reboot "
    "all running console proxy VMs and secondary storage VMs to propagate the new certificate, "
    "please give a few minutes for console access service to be up again"
)


def _running_appliances(call: Call) -> list[UUID]:
    marks = ", ".join(["%s"] * len(SYSTEM_VM_ROLES))
    with call.read() as cursor:
        rows = cursor.execute(
            f"SELECT id FROM system_vms WHERE role IN ({marks}) AND state = 'Running' "
            "AND removed = 0 ORDER BY id",
            [str(role) for role in SYSTEM_VM_ROLES],
        ).fetchall()
    return [UUID(row["id"]) for row in rows]


def upload(call: Call, args: dict[str, Any]) -> Submitted:
    command = cmd.UploadCustomCertificate(
        certificate=args["certificate"],
        domain_suffix=args["domainsuffix"],
        position=args["id"],
        name=args["name"] or "",
        private_key=Secret(args["privatekey"] or ""),
    )

    def work() -> dict[str, Any]:
        cmd.upload_custom_certificate(call.store, command)
        if command.private_key.reveal():
            cmd.reboot_appliances(call.store, _running_appliances(call))
        return {"object": ITEM, "id": str(ConsoleCertificates.create_id())}

    return run_async(
        call,
        instance_type="None",
        instance_id=None,
        event_type="UPLOAD.CUSTOM.CERTIFICATE",
        description="Uploading a custom certificate",
        work=work,
    )


COMMANDS = (
    ApiCommand(
        "uploadCustomCertificate",
        upload,
        (
            Param("certificate", P.STRING, required=True, max_length=65535),
            Param("domainsuffix", P.STRING, required=True),
            Param("id", P.INTEGER),
            Param("name", P.STRING),
            Param("privatekey", P.STRING, max_length=65535),
        ),
        role=Role.ROOT_ADMIN,
        shape="async",
        is_async=True,
        item_key=ITEM,
        render=lambda call, _id: {"message": MESSAGE},
        java_class="org.apache.cloudstack.api.command.admin.resource.UploadCustomCertificateCmd",
        description="Uploads a custom certificate for the console proxy VMs to use for SSL",
    ),
)
