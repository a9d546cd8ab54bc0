"""The KVM adapter: libvirt-python driver (optional dependency, extra `kvm`)."""
