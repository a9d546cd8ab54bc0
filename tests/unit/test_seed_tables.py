"""The tables Stratus seeds as CloudStack 4.3 does: guest OS types and categories."""

from __future__ import annotations

from domain.guest_os import CATEGORIES, OS_CATEGORIES, OS_TYPES, SHIPPED, os_type, os_type_id


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
