"""A usage record as CloudStack prints it: field names, dates, raw usage and description."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from api.envelope import format_usage_date
from domain.usage import (
    ALLOCATED_VM,
    BYTE_TYPES,
    IP_ADDRESS,
    ISO,
    LOAD_BALANCER_POLICY,
    NETWORK_OFFERING,
    PORT_FORWARDING_RULE,
    RUNNING_VM,
    SECURITY_GROUP,
    SNAPSHOT,
    TEMPLATE,
    VM_SNAPSHOT,
    VOLUME,
    VPN_USERS,
    raw_usage,
)
from domain.usage_ledger import Head
from domain.usage_periods import Period, from_ms

Labels = Mapping[str, tuple[str, str]]  # account or domain id: (name, domain path)


def record_fields(period: Period, head: Head, quantity: int, labels: Labels) -> dict[str, Any]:
    """One record with CloudStack's names; `labels` give account and domain names."""
    usage_type, usage_id, _, account_id, domain_id, zone_id, name, attrs = head
    terms = dict(attrs)
    raw = raw_usage(usage_type, quantity)
    item: dict[str, Any] = {
        "account": labels.get(account_id, ("", ""))[0],
        "accountid": account_id,
        "domainid": domain_id,
        "domain": labels.get(domain_id, ("", ""))[0],
        "zoneid": zone_id,
        "description": _description(usage_type, usage_id, name, terms),
        "usage": raw if usage_type in BYTE_TYPES else f"{raw} Hrs",
        "usagetype": usage_type,
        "rawusage": raw,
        "usageid": usage_id,
    }
    item.update(_specific(usage_type, usage_id, name, terms))
    zone = ZoneInfo(period[2])
    # The usage server writes a period's end as its last millisecond (…23:59:59.999).
    item["startdate"] = format_usage_date(from_ms(period[0]), zone)
    item["enddate"] = format_usage_date(from_ms(period[1] - 1), zone)
    return item


def _specific(usage_type: int, usage_id: str, name: str, terms: dict[str, Any]) -> dict[str, Any]:
    if usage_type in (RUNNING_VM, ALLOCATED_VM):
        item = {
            "virtualmachineid": usage_id,
            "name": name,
            "offeringid": terms["offering_id"],
            "templateid": terms["template_id"],
            "type": terms["hypervisor"],
        }
        if terms.get("cpu_number") is not None:
            item.update(
                cpunumber=terms["cpu_number"], cpuspeed=terms["cpu_speed"], memory=terms["memory"]
            )
        return item
    if usage_type == VOLUME:
        return _present(
            name=name,
            size=terms["size"],
            offeringid=terms["offering_id"],
            templateid=terms["template_id"],
        )
    if usage_type in (TEMPLATE, ISO):
        return {"templateid": usage_id, "size": terms["size"], "virtualsize": terms["virtual_size"]}
    if usage_type == SNAPSHOT:
        return {"size": terms["size"]}
    if usage_type == VM_SNAPSHOT:
        return _present(
            virtualmachineid=usage_id, size=terms["size"], offeringid=terms.get("offering_id")
        )
    if usage_type == IP_ADDRESS:
        return {"issourcenat": terms.get("source_nat"), "issystem": terms.get("system")}
    if usage_type == NETWORK_OFFERING:
        return _present(
            virtualmachineid=usage_id,
            name=name,
            offeringid=terms.get("offering_id"),
            isdefault=terms.get("is_default"),
        )
    if usage_type == SECURITY_GROUP:
        return {"virtualmachineid": terms["vm_id"]}
    if usage_type == VPN_USERS:
        return {"name": name}
    return _present(
        name=name or None,
        networkid=terms.get("network_id"),
        type=terms.get("resource_type"),
        virtualmachineid=terms.get("vm_id"),
    )


def _present(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _description(usage_type: int, usage_id: str, name: str, terms: dict[str, Any]) -> str:
    if usage_type in (RUNNING_VM, ALLOCATED_VM):
        what = "running time" if usage_type == RUNNING_VM else "allocated"
        return (
            f"{name} {what} (ServiceOffering: {terms['offering_id']}) "
            f"(Template: {terms['template_id']})"
        )
    if usage_type == VOLUME:
        text = f"Volume Id: {usage_id} usage time"
        if terms.get("template_id"):
            return f"{text} (Template: {terms['template_id']})"
        if terms.get("offering_id"):
            return f"{text} (DiskOffering: {terms['offering_id']})"
        return text
    if usage_type in (TEMPLATE, ISO):
        kind = "Template" if usage_type == TEMPLATE else "ISO"
        return f"{kind} Id: {usage_id} Size: {terms['size']}"
    if usage_type == SNAPSHOT:
        return f"Snapshot Id: {usage_id} Size: {terms['size']}"
    if usage_type == VM_SNAPSHOT:
        offering = f" DiskOffering: {terms['offering_id']}" if terms.get("offering_id") else ""
        return (
            f"VMSnapshot Usage: VM Id: {usage_id} Volume Id: {terms['volume_id']}{offering} "
            f"Size: {terms['size']}"
        )
    if usage_type == IP_ADDRESS:
        return f"IPAddress: {terms.get('address', name)}"
    if usage_type == LOAD_BALANCER_POLICY:
        return f"Load Balancing Policy: {usage_id} usage time"
    if usage_type == PORT_FORWARDING_RULE:
        return f"Port Forwarding Rule: {usage_id} usage time"
    if usage_type == NETWORK_OFFERING:
        return f"Network offering {terms.get('offering_id')} usage for VM {name}"
    if usage_type == SECURITY_GROUP:
        return f"Security Group: {usage_id} for Vm : {terms['vm_id']} usage time"
    if usage_type == VPN_USERS:
        return f"VPN User: {name}, Id: {usage_id} usage time"
    return f"{name or usage_id} usage"
