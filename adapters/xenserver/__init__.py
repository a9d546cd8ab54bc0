"""XenServer adapter: a `Hypervisor` driver speaking XAPI over XML-RPC."""
