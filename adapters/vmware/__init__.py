"""VMware vSphere adapter: a `Hypervisor` driver speaking the vSphere API through pyvmomi."""
