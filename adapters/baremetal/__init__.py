"""The bare-metal adapter: a host with no hypervisor, booted over the network (PXE) with the
entries its PXE and DHCP servers are given over SSH, and powered through its IPMI controller."""
