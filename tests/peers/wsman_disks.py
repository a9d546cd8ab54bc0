"""The Hyper-V stand-in's virtual hard disks: the VHD cmdlets and the VM hard disk drive cmdlets,
with the checks Hyper-V makes.

- `New-VHD -Path p -SizeBytes n` makes a VHDX (refused when the file exists or the size is not
  positive); `Get-VHD -Path p` answers Path and Size (an error for a missing file, unless
  `-ErrorAction SilentlyContinue`); `Resize-VHD -Path p -SizeBytes n` needs the file.
- `Add-VMHardDiskDrive -VMName v -ControllerType SCSI -ControllerNumber 0 -ControllerLocation l
  -Path p` needs the VM and the file, and a free location on that controller; a running VM takes
  it at once, as Hyper-V hot-adds SCSI disks. `Get-VMHardDiskDrive -VMName v` lists its drives
  (VMName, ControllerType, ControllerNumber, ControllerLocation, Path); piped to
  `Remove-VMHardDiskDrive` they are removed (the file stays).
- `Get-VMHost` also answers the host's VirtualHardDiskPath.
"""

from __future__ import annotations

from typing import Any

from tests.peers.model import PeerHost

VHD_DIRECTORY = "C:\\ProgramData\\Microsoft\\Windows\\Virtual Hard Disks"


class VhdCmdlets:
    """Mixed into the stand-in's interpreter; its state lives beside the host it serves."""

    host: PeerHost
    _ps_error: type[Exception]  # the interpreter's terminating error

    def _vhds(self) -> dict[str, int]:
        vhds: dict[str, int] = self.__dict__.setdefault("_vhd_files", {})
        return vhds

    def _drives(self, vm_name: str) -> list[dict[str, Any]]:
        found = self.host.named(vm_name)
        if not found:
            raise self._ps_error(
                f"Hyper-V was unable to find a virtual machine with name '{vm_name}'."
            )
        drives: dict[int, list[dict[str, Any]]] = self.__dict__.setdefault("_vm_drives", {})
        return drives.setdefault(id(found[0]), [])

    def _vhd_size(self, path: str) -> int:
        if path not in self._vhds():
            raise self._ps_error(f"The system cannot find the file '{path}'.")
        return self._vhds()[path]

    # -- VHD files ------------------------------------------------------------------------------

    def _new_vhd(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        path, size = str(named["Path"]), int(named["SizeBytes"])
        if path in self._vhds():
            raise self._ps_error(f"The file '{path}' already exists.")
        if size <= 0:
            raise self._ps_error("The size of a virtual hard disk must be positive.")
        self._vhds()[path] = size
        return [{"Path": path, "Size": size}]

    def _get_vhd(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        path = str(named["Path"])
        if path not in self._vhds() and named.get("ErrorAction") == "SilentlyContinue":
            return []
        return [{"Path": path, "Size": self._vhd_size(path)}]

    def _resize_vhd(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list[Any]:
        path, size = str(named["Path"]), int(named["SizeBytes"])
        self._vhd_size(path)
        self._vhds()[path] = size
        return []

    # -- drives of VMs --------------------------------------------------------------------------

    def _get_vmharddiskdrive(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list:
        name = str(named["VMName"])
        return [dict(drive, VMName=name) for drive in self._drives(name)]

    def _add_vmharddiskdrive(self, _input: Any, named: dict[str, Any], _pos: list[str]) -> list:
        name, path = str(named["VMName"]), str(named["Path"])
        self._vhd_size(path)
        drives = self._drives(name)
        slot = (str(named["ControllerType"]), int(named["ControllerNumber"]))
        location = int(named["ControllerLocation"])
        if slot != ("SCSI", 0):
            raise self._ps_error(f"Virtual machine '{name}' has no controller {slot}.")
        if any(d["ControllerLocation"] == location for d in drives):
            raise self._ps_error(f"Location {location} of the SCSI controller is in use.")
        if any(d["Path"] == path for d in drives):
            raise self._ps_error(f"The disk '{path}' is already attached to '{name}'.")
        drives.append(
            {
                "ControllerType": "SCSI",
                "ControllerNumber": 0,
                "ControllerLocation": location,
                "Path": path,
            }
        )
        return []

    def _remove_vmharddiskdrive(self, items: Any, _named: dict[str, Any], _pos: list) -> list:
        if items is None:
            raise self._ps_error("Remove-VMHardDiskDrive needs drives from the pipeline.")
        for item in items:
            drives = self._drives(str(item["VMName"]))
            drives[:] = [d for d in drives if d["Path"] != item["Path"]]
        return []
