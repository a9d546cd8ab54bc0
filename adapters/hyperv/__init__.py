"""Hyper-V adapter: a `Hypervisor` driver running PowerShell over WinRM."""
