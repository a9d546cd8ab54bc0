"""What a bare-metal host's network boot needs written on its PXE and DHCP servers, as 4.3
writes it, and the IPMI calls that boot it.

- A kickstart PXE server gets the host's pxelinux file, `<tftpdir>/pxelinux.cfg/01-<mac>`
  (the MAC in lower case with dashes, as pxelinux looks it up), booting the template's kernel
  and initrd (fetched into `<tftpdir>/<template id>/`) with its kickstart file. The template's
  URL names them as 4.3 takes it: `ks=<kickstart URL>;kernel=<URL>;initrd=<URL>`.
- A PING PXE server gets the same file booting PING's own kernel to restore the template's
  image from the PING storage server.
- A dhcpd server gets a `host` block in its configuration (MAC -> fixed address, next-server,
  filename), between marker lines, and is restarted; a dnsmasq server gets a `dhcp-host` and a
  tagged `dhcp-boot` line in a file of its own under /etc/dnsmasq.d, and is restarted.
- The host is set to boot from the network once and powered on with ipmitool, run on the PXE
  server (on the provisioning network beside the IPMI controllers); the IPMI password goes on
  ipmitool's stdin (`-f /dev/stdin`).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any

from adapters import HypervisorError
from adapters.baremetal.ssh import Edit, Remove, Run, Server, Step, Write

KICK_START, PING = "KICK_START", "PING"
DHCPD_CONF = "/etc/dhcpd.conf"
DNSMASQ_DIR = "/etc/dnsmasq.d"
BOOT_FILE = "pxelinux.0"
_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


@dataclass(frozen=True)
class Boot:
    """One host's network boot: the host, the address it gets, and the servers that boot it."""

    mac: str
    ip_address: str
    hostname: str
    pxe_type: str
    tftp_dir: str
    dhcp_type: str
    template_id: str
    template_url: str
    pxe: Server
    dhcp: Server
    ping: dict[str, str]  # storage server, directory, CIFS login (PING only)

    @property
    def next_server(self) -> str:
        return self.pxe.host

    @property
    def pxelinux_file(self) -> str:
        return posixpath.join(self.tftp_dir, "pxelinux.cfg", "01-" + self.mac.replace(":", "-"))


def boot_of(params: dict[str, Any]) -> Boot:
    """The boot a request carries: its facts in `boot`, the servers' passwords in `secrets`."""
    facts, secrets = params.get("boot"), params.get("secrets") or {}
    if not isinstance(facts, dict):
        raise HypervisorError("the request names no PXE and DHCP servers for the bare-metal host")
    try:
        mac = str(facts["mac"]).lower()
        if not _MAC.fullmatch(mac):
            raise HypervisorError(f"the host's MAC address {mac} is not one")
        return Boot(
            mac=mac,
            ip_address=str(facts["ip_address"]),
            hostname=str(facts["hostname"]),
            pxe_type=str(facts["pxe_type"]),
            tftp_dir=str(facts["tftp_dir"]) or "/tftpboot",
            dhcp_type=str(facts["dhcp_type"]),
            template_id=str(facts["template_id"]),
            template_url=str(facts["template_url"]),
            pxe=Server(
                str(facts["pxe_address"]), str(facts["pxe_username"]), str(secrets["pxe_password"])
            ),
            dhcp=Server(
                str(facts["dhcp_address"]),
                str(facts["dhcp_username"]),
                str(secrets["dhcp_password"]),
            ),
            ping={
                **dict(facts.get("ping") or {}),
                "cifs_password": str(secrets.get("cifs_password", "")),
            },
        )
    except KeyError as missing:
        raise HypervisorError(f"the bare-metal boot lacks {missing}") from None


def kickstart_parts(url: str) -> dict[str, str]:
    """ks, kernel and initrd of a kickstart template's URL (4.3's `ks=…;kernel=…;initrd=…`)."""
    parts: dict[str, str] = {}
    for part in url.split(";"):
        key, _, value = part.strip().partition("=")
        if key not in ("ks", "kernel", "initrd") or not value or key in parts:
            break
        parts[key] = value
    if set(parts) != {"ks", "kernel", "initrd"} or url.count(";") != 2:
        raise HypervisorError(
            f"template url[{url}] is not correctly encoded: it must be in the format of "
            "ks=http_link_to_kickstartfile;kernel=link_to_pxe_kernel;initrd=link_to_pxe_initrd"
        )
    return parts


def pxe_steps(boot: Boot) -> list[Step]:
    """What the PXE server is given for the host's boot."""
    if boot.pxe_type == PING:
        return [Write(boot.pxelinux_file, _ping_file(boot))]
    parts = kickstart_parts(boot.template_url)
    folder = posixpath.join(boot.tftp_dir, boot.template_id)
    fetch = " && ".join(
        [
            f"mkdir -p {shlex.quote(folder)}",
            *(
                f"curl -fsSL -o {shlex.quote(posixpath.join(folder, name))} {shlex.quote(url)}"
                for name, url in (("vmlinuz", parts["kernel"]), ("initrd.img", parts["initrd"]))
            ),
        ]
    )
    kernel = posixpath.join(boot.template_id, "vmlinuz")
    initrd = posixpath.join(boot.template_id, "initrd.img")
    text = (
        "DEFAULT default\nPROMPT 1\nTIMEOUT 26\nDISPLAY boot.msg\nLABEL default\n"
        f"KERNEL {kernel}\n"
        f"APPEND ramdisk_size=66000 initrd={initrd} ksdevice={boot.mac} ks={parts['ks']}\n"
    )
    return [Run(fetch), Write(boot.pxelinux_file, text)]


def _ping_file(boot: Boot) -> str:
    p = boot.ping
    image = posixpath.join(p.get("dir", ""), boot.template_id)
    login = f"PING_CIFS_USER={p.get('cifs_username', '')} PING_CIFS_PASS={p['cifs_password']}"
    return (
        "DEFAULT default\nPROMPT 1\nTIMEOUT 2\nDISPLAY boot.msg\nLABEL default\n"
        "KERNEL kernel\n"
        "APPEND vga=normal devfs=nomount pxe ramdisk_size=66000 load_ramdisk=1 init=/linuxrc "
        "prompt_ramdisk=0 initrd=initrd.gz root=/dev/ram0 rw noapic nolapic lba "
        f"PING_TYPE=restore PING_STORAGE={p.get('storage_server_ip', '')} PING_IMAGE={image} "
        f"PING_MAC={boot.mac} PING_IP={boot.ip_address} {login} after_completion=reboot\n"
    )


def dhcp_steps(boot: Boot, *, remove: bool = False) -> list[Step]:
    """What the DHCP server is given (or, with `remove`, loses) for the host."""
    if boot.dhcp_type == "DNSMASQ":
        path = posixpath.join(DNSMASQ_DIR, "stratus-" + boot.mac.replace(":", "-") + ".conf")
        tag = "bm" + boot.mac.replace(":", "")
        entry = (
            f"dhcp-host={boot.mac},set:{tag},{boot.ip_address},{boot.hostname},infinite\n"
            f"dhcp-boot=tag:{tag},{BOOT_FILE},pxeserver,{boot.next_server}\n"
        )
        change: Step = Remove(path) if remove else Write(path, entry)
        return [change, Run("service dnsmasq restart")]
    block = None
    if not remove:
        block = (
            f"host {boot.hostname} {{\n"
            f"  hardware ethernet {boot.mac};\n"
            f"  fixed-address {boot.ip_address};\n"
            f'  option host-name "{boot.hostname}";\n'
            f"  next-server {boot.next_server};\n"
            f'  filename "{BOOT_FILE}";\n'
            "}"
        )
    marker = f"# stratus bare-metal host {boot.mac}"
    edit = Edit(DHCPD_CONF, f"{marker} begin", f"{marker} end", block)
    return [edit, Run("service dhcpd restart")]


def ipmi(address: str, username: str, password: str, *commands: str) -> list[Step]:
    """ipmitool over the LAN interface for each command, the password on its stdin."""
    base = f"ipmitool -I lanplus -H {shlex.quote(address)} -U {shlex.quote(username)}"
    return [Run(f"{base} -f /dev/stdin {command}", password + "\n") for command in commands]
