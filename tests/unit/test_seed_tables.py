"""The tables Stratus seeds as CloudStack 4.3 does: guest OS types and categories, and the
built-in templates per hypervisor."""

from __future__ import annotations

import pytest

from commands.builtin_templates import (
    BUILTIN_IMAGES,
    ORIGIN,
    builtin_template_id,
    image_url,
    images_for,
    spec_of,
)
from domain.configuration import DEFINITIONS
from domain.guest_os import CATEGORIES, OS_CATEGORIES, OS_TYPES, SHIPPED, os_type, os_type_id
from domain.kept_settings import kept_settings
from domain.template import check_spec
from stratus.settings import ConfigurationError, Settings


def test_guest_os_types_come_in_43s_id_order_with_its_names() -> None:
    shipped = [t for t in OS_TYPES if t.number]
    assert [t.number for t in shipped] == sorted(t.number for t in shipped)
    assert len(shipped) == len(SHIPPED) == 223  # 1-224 without 71
    first, last = shipped[0], shipped[-1]
    assert (first.number, first.description, first.category) == (1, "CentOS 4.5 (32-bit)", "CentOS")
    assert (last.number, last.description) == (224, "Apple Mac OS X 10.7 (64-bit)")
    by_number = {t.number: t.description for t in shipped}
    assert by_number[112] == "CentOS 5.5 (64-bit)"
    assert by_number[142] == "CentOS 5.6 (64-bit)"
    assert by_number[184] == "Debian GNU/Linux 7(64-bit)"  # 4.3's spelling, no space
    assert 71 not in by_number


def test_every_os_type_has_a_unique_stable_id_and_a_known_category() -> None:
    assert len({t.id for t in OS_TYPES}) == len(OS_TYPES)
    assert len({t.description for t in OS_TYPES}) == len(OS_TYPES)
    assert {t.category for t in OS_TYPES} <= set(CATEGORIES)
    assert all(os_type(os_type_id(t.description)) == t for t in OS_TYPES)


def test_categories_are_43s_eleven_in_its_order() -> None:
    assert [name for _id, name in OS_CATEGORIES] == [
        "CentOS",
        "Debian",
        "Oracle",
        "RedHat",
        "SUSE",
        "Windows",
        "Other",
        "Novel",
        "Unix",
        "Ubuntu",
        "None",
    ]


def test_types_earlier_releases_offered_still_resolve_after_43s() -> None:
    kept = os_type(os_type_id("Ubuntu 14.04 (64-bit)"))
    assert kept is not None and kept.number == 0
    assert OS_TYPES.index(kept) > max(i for i, t in enumerate(OS_TYPES) if t.number)


# ---- built-in templates ------------------------------------------------------------------


def test_each_hypervisor_has_the_system_template_its_router_setting_names() -> None:
    # LXC's is only kept (Stratus has no LXC hosts), and router.template.id is 4.3's number.
    kept = {k.name for k in kept_settings()}
    for setting in (
        d
        for d in DEFINITIONS.values()
        if d.name.startswith("router.template.") and d.name not in kept
    ):
        wanted = setting.default
        matches = [i for i in BUILTIN_IMAGES if i.name == wanted]
        assert len(matches) == 1, wanted
        assert matches[0].system and matches[0].template_type == "SYSTEM"


def test_builtin_images_are_valid_templates_of_their_hypervisor() -> None:
    assert len({i.name for i in BUILTIN_IMAGES}) == len(BUILTIN_IMAGES)
    for image in BUILTIN_IMAGES:
        check_spec(spec_of(image))  # URL form, format for the hypervisor, OS type, bits
        assert image.checksum == "" or len(image.checksum) == 32  # MD5, as 4.3 records it


def test_guest_templates_are_public_and_featured_and_system_ones_are_neither() -> None:
    kvm = spec_of(next(i for i in BUILTIN_IMAGES if i.name == "CentOS 5.5(64-bit) no GUI (KVM)"))
    assert (kvm.is_public, kvm.is_featured, kvm.template_type, kvm.cross_zones) == (
        True,
        True,
        "BUILTIN",
        True,
    )
    assert kvm.url == (
        "http://download.cloud.com/releases/2.2.0/eec2209b-9875-3c8d-92be-c001bd8a0faf.qcow2.bz2"
    )
    system = spec_of(next(i for i in BUILTIN_IMAGES if i.name == "SystemVM Template (KVM)"))
    assert (system.is_public, system.is_featured, system.template_type) == (False, False, "SYSTEM")


def test_a_mirror_replaces_43s_download_site_and_keeps_the_path() -> None:
    image = next(i for i in BUILTIN_IMAGES if i.name == "SystemVM Template (XenServer)")
    assert image_url(image, "http://mirror.lan/cs/") == (
        "http://mirror.lan/cs/templates/acton/acton-systemvm-02062012.vhd.bz2"
    )
    assert image_url(image).startswith(ORIGIN)


def test_every_hypervisor_stratus_drives_gets_a_system_template_and_ids_are_fixed() -> None:
    for hypervisor in ("XenServer", "KVM", "VMware", "Hyperv", "Simulator"):
        assert any(i.system for i in images_for(hypervisor)), hypervisor
    assert images_for("BareMetal") == ()
    assert builtin_template_id("SystemVM Template (KVM)") == builtin_template_id(
        "SystemVM Template (KVM)"
    )


def test_the_mirror_setting_takes_an_http_base_and_refuses_anything_else() -> None:
    settings = Settings.from_env({"STRATUS_BUILTIN_IMAGE_MIRROR": "https://mirror.lan/cs"})
    assert settings.builtin_image_mirror == "https://mirror.lan/cs/"
    assert Settings.from_env({}).builtin_image_mirror == ""
    with pytest.raises(ConfigurationError, match="STRATUS_BUILTIN_IMAGE_MIRROR"):
        Settings.from_env({"STRATUS_BUILTIN_IMAGE_MIRROR": "ftp://mirror.lan/"})
