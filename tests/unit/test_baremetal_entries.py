"""What the bare-metal adapter writes for a host's network boot, and the template URLs it takes."""

from __future__ import annotations

import pytest

from adapters import HypervisorError
from adapters.baremetal.entries import boot_of, dhcp_steps, ipmi, kickstart_parts, pxe_steps
from adapters.baremetal.ssh import Edit, Remove, Run, Write, replace_block
from domain.baremetal import check_kickstart_url
from domain.errors import InvalidParameter

URL = "ks=http://r/ks.cfg;kernel=http://r/vmlinuz;initrd=http://r/initrd.img"


def _boot(**facts: object) -> dict:
    given = {
        "mac": "52:54:00:AB:CD:01", "ip_address": "10.6.0.21", "hostname": "bm-1",
        "pxe_type": "KICK_START", "tftp_dir": "/tftpboot", "dhcp_type": "DHCPD",
        "template_id": "t-1", "template_url": URL, "pxe_address": "10.0.0.5",
        "pxe_username": "root", "dhcp_address": "10.0.0.6:2222", "dhcp_username": "root",
        **facts,
    }  # fmt: skip
    return {"boot": given, "secrets": {"pxe_password": "p", "dhcp_password": "d"}}


@pytest.mark.parametrize(
    "url",
    [
        "ks=http://r/ks.cfg;kernel=http://r/vmlinuz",
        "ks=http://r/ks.cfg;kernel=http://r/k;initrd=http://r/i;extra=1",
        "ks=;kernel=http://r/k;initrd=http://r/i",
        "kernel=http://r/k;kernel=http://r/k;initrd=http://r/i",
    ],
)
def test_a_kickstart_url_must_name_its_file_kernel_and_initrd(url: str) -> None:
    with pytest.raises(InvalidParameter, match="not correctly encoded"):
        check_kickstart_url(url)
    with pytest.raises(HypervisorError, match="not correctly encoded"):
        kickstart_parts(url)


def test_the_pxelinux_file_is_named_for_the_mac_and_boots_the_templates_kernel() -> None:
    boot = boot_of(_boot())
    fetch, written = pxe_steps(boot)
    assert isinstance(fetch, Run) and "curl -fsSL -o /tftpboot/t-1/vmlinuz http://r/vmlinuz" in (
        fetch.command
    )
    assert isinstance(written, Write)
    assert written.path == "/tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-01"
    assert "KERNEL t-1/vmlinuz\n" in written.text
    assert "initrd=t-1/initrd.img ksdevice=52:54:00:ab:cd:01 ks=http://r/ks.cfg" in written.text
    assert (boot.dhcp.host, boot.dhcp.port, boot.pxe.port) == ("10.0.0.6", 2222, 22)


def test_a_dhcpd_host_block_is_replaced_and_removed_between_its_markers() -> None:
    boot = boot_of(_boot())
    edit, restart = dhcp_steps(boot)
    assert isinstance(edit, Edit) and restart == Run("service dhcpd restart")
    assert edit.text is not None
    conf = replace_block("subnet 10.6.0.0 {}\n", edit.begin, edit.end, edit.text)
    again = replace_block(conf, edit.begin, edit.end, edit.text)
    assert again == conf and conf.count("hardware ethernet 52:54:00:ab:cd:01;") == 1
    removed, _ = dhcp_steps(boot, remove=True)
    assert isinstance(removed, Edit) and removed.text is None
    assert replace_block(conf, removed.begin, removed.end, None) == "subnet 10.6.0.0 {}\n"


def test_a_dnsmasq_entry_is_a_file_of_its_own() -> None:
    boot = boot_of(_boot(dhcp_type="DNSMASQ"))
    written, restart = dhcp_steps(boot)
    assert isinstance(written, Write) and restart == Run("service dnsmasq restart")
    assert written.text.startswith("dhcp-host=52:54:00:ab:cd:01,set:bm525400abcd01,10.6.0.21,")
    assert dhcp_steps(boot, remove=True)[0] == Remove(written.path)


def test_the_ipmi_password_goes_on_stdin_only() -> None:
    (run,) = ipmi("10.2.0.7", "admin", "s3cret", "chassis power on")
    assert "s3cret" not in run.command and run.stdin == "s3cret\n"
    assert run.command.endswith("-f /dev/stdin chassis power on")


def test_a_boot_without_its_servers_passwords_is_refused() -> None:
    given = _boot()
    del given["secrets"]["dhcp_password"]
    with pytest.raises(HypervisorError, match="lacks"):
        boot_of(given)


def test_a_ping_server_boots_ping_to_restore_the_templates_image() -> None:
    given = _boot(pxe_type="PING", template_url="centos-image")
    given["boot"]["ping"] = {"storage_server_ip": "10.3.0.9", "dir": "/ping", "cifs_username": "u"}
    given["secrets"]["cifs_password"] = "c"
    (written,) = pxe_steps(boot_of(given))
    assert isinstance(written, Write) and written.path.endswith("/01-52-54-00-ab-cd-01")
    append = next(line for line in written.text.splitlines() if line.startswith("APPEND"))
    options = dict(o.split("=", 1) for o in append.split() if "=" in o)
    assert (options["PING_STORAGE"], options["PING_IMAGE"], options["PING_IP"]) == (
        "10.3.0.9",
        "/ping/t-1",
        "10.6.0.21",
    )
