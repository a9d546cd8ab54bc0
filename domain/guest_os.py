"""The guest OS types templates declare, and their categories, as CloudStack 4.3 ships them.

Listed in 4.3's id order (`number`); the ids Stratus answers are stable UUIDs derived from the
names, so every installation gives the same id for the same OS. A few types that earlier
releases of Stratus offered, and 4.3 does not, follow 4.3's: templates registered with them
keep resolving.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

_OS_NAMESPACE = UUID("9a1e7c3e-5d2b-4f61-8c0a-7b6f1e2d3c4b")

# 4.3's categories, in its id order.
CATEGORIES = (
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
)

# (4.3's id, category, description); 71 is a gap in 4.3's numbering.
SHIPPED: tuple[tuple[int, str, str], ...] = (
    (1, "CentOS", "CentOS 4.5 (32-bit)"),
    (2, "CentOS", "CentOS 4.6 (32-bit)"),
    (3, "CentOS", "CentOS 4.7 (32-bit)"),
    (4, "CentOS", "CentOS 4.8 (32-bit)"),
    (5, "CentOS", "CentOS 5.0 (32-bit)"),
    (6, "CentOS", "CentOS 5.0 (64-bit)"),
    (7, "CentOS", "CentOS 5.1 (32-bit)"),
    (8, "CentOS", "CentOS 5.1 (64-bit)"),
    (9, "CentOS", "CentOS 5.2 (32-bit)"),
    (10, "CentOS", "CentOS 5.2 (64-bit)"),
    (11, "CentOS", "CentOS 5.3 (32-bit)"),
    (12, "CentOS", "CentOS 5.3 (64-bit)"),
    (13, "CentOS", "CentOS 5.4 (32-bit)"),
    (14, "CentOS", "CentOS 5.4 (64-bit)"),
    (15, "Debian", "Debian GNU/Linux 5.0 (32-bit)"),
    (16, "Oracle", "Oracle Enterprise Linux 5.0 (32-bit)"),
    (17, "Oracle", "Oracle Enterprise Linux 5.0 (64-bit)"),
    (18, "Oracle", "Oracle Enterprise Linux 5.1 (32-bit)"),
    (19, "Oracle", "Oracle Enterprise Linux 5.1 (64-bit)"),
    (20, "Oracle", "Oracle Enterprise Linux 5.2 (32-bit)"),
    (21, "Oracle", "Oracle Enterprise Linux 5.2 (64-bit)"),
    (22, "Oracle", "Oracle Enterprise Linux 5.3 (32-bit)"),
    (23, "Oracle", "Oracle Enterprise Linux 5.3 (64-bit)"),
    (24, "Oracle", "Oracle Enterprise Linux 5.4 (32-bit)"),
    (25, "Oracle", "Oracle Enterprise Linux 5.4 (64-bit)"),
    (26, "RedHat", "Red Hat Enterprise Linux 4.5 (32-bit)"),
    (27, "RedHat", "Red Hat Enterprise Linux 4.6 (32-bit)"),
    (28, "RedHat", "Red Hat Enterprise Linux 4.7 (32-bit)"),
    (29, "RedHat", "Red Hat Enterprise Linux 4.8 (32-bit)"),
    (30, "RedHat", "Red Hat Enterprise Linux 5.0 (32-bit)"),
    (31, "RedHat", "Red Hat Enterprise Linux 5.0 (64-bit)"),
    (32, "RedHat", "Red Hat Enterprise Linux 5.1 (32-bit)"),
    (33, "RedHat", "Red Hat Enterprise Linux 5.1 (64-bit)"),
    (34, "RedHat", "Red Hat Enterprise Linux 5.2 (32-bit)"),
    (35, "RedHat", "Red Hat Enterprise Linux 5.2 (64-bit)"),
    (36, "RedHat", "Red Hat Enterprise Linux 5.3 (32-bit)"),
    (37, "RedHat", "Red Hat Enterprise Linux 5.3 (64-bit)"),
    (38, "RedHat", "Red Hat Enterprise Linux 5.4 (32-bit)"),
    (39, "RedHat", "Red Hat Enterprise Linux 5.4 (64-bit)"),
    (40, "SUSE", "SUSE Linux Enterprise Server 9 SP4 (32-bit)"),
    (41, "SUSE", "SUSE Linux Enterprise Server 10 SP1 (32-bit)"),
    (42, "SUSE", "SUSE Linux Enterprise Server 10 SP1 (64-bit)"),
    (43, "SUSE", "SUSE Linux Enterprise Server 10 SP2 (32-bit)"),
    (44, "SUSE", "SUSE Linux Enterprise Server 10 SP2 (64-bit)"),
    (45, "SUSE", "SUSE Linux Enterprise Server 10 SP3 (64-bit)"),
    (46, "SUSE", "SUSE Linux Enterprise Server 11 (32-bit)"),
    (47, "SUSE", "SUSE Linux Enterprise Server 11 (64-bit)"),
    (48, "Windows", "Windows 7 (32-bit)"),
    (49, "Windows", "Windows 7 (64-bit)"),
    (50, "Windows", "Windows Server 2003 Enterprise Edition(32-bit)"),
    (51, "Windows", "Windows Server 2003 Enterprise Edition(64-bit)"),
    (52, "Windows", "Windows Server 2008 (32-bit)"),
    (53, "Windows", "Windows Server 2008 (64-bit)"),
    (54, "Windows", "Windows Server 2008 R2 (64-bit)"),
    (55, "Windows", "Windows 2000 Server SP4 (32-bit)"),
    (56, "Windows", "Windows Vista (32-bit)"),
    (57, "Windows", "Windows XP SP2 (32-bit)"),
    (58, "Windows", "Windows XP SP3 (32-bit)"),
    (59, "Ubuntu", "Other Ubuntu (32-bit)"),
    (60, "Other", "Other (32-bit)"),
    (61, "Windows", "Windows 2000 Server"),
    (62, "Windows", "Windows 98"),
    (63, "Windows", "Windows 95"),
    (64, "Windows", "Windows NT 4"),
    (65, "Windows", "Windows 3.1"),
    (66, "RedHat", "Red Hat Enterprise Linux 3(32-bit)"),
    (67, "RedHat", "Red Hat Enterprise Linux 3(64-bit)"),
    (68, "Other", "Open Enterprise Server"),
    (69, "Other", "Asianux 3(32-bit)"),
    (70, "Other", "Asianux 3(64-bit)"),
    (72, "Debian", "Debian GNU/Linux 5(64-bit)"),
    (73, "Debian", "Debian GNU/Linux 4(32-bit)"),
    (74, "Debian", "Debian GNU/Linux 4(64-bit)"),
    (75, "Other", "Other 2.6x Linux (32-bit)"),
    (76, "Other", "Other 2.6x Linux (64-bit)"),
    (77, "Novel", "Novell Netware 6.x"),
    (78, "Novel", "Novell Netware 5.1"),
    (79, "Unix", "Sun Solaris 10(32-bit)"),
    (80, "Unix", "Sun Solaris 10(64-bit)"),
    (81, "Unix", "Sun Solaris 9(Experimental)"),
    (82, "Unix", "Sun Solaris 8(Experimental)"),
    (83, "Unix", "FreeBSD (32-bit)"),
    (84, "Unix", "FreeBSD (64-bit)"),
    (85, "Unix", "SCO OpenServer 5"),
    (86, "Unix", "SCO UnixWare 7"),
    (87, "Windows", "Windows Server 2003 DataCenter Edition(32-bit)"),
    (88, "Windows", "Windows Server 2003 DataCenter Edition(64-bit)"),
    (89, "Windows", "Windows Server 2003 Standard Edition(32-bit)"),
    (90, "Windows", "Windows Server 2003 Standard Edition(64-bit)"),
    (91, "Windows", "Windows Server 2003 Web Edition"),
    (92, "Windows", "Microsoft Small Bussiness Server 2003"),
    (93, "Windows", "Windows XP (32-bit)"),
    (94, "Windows", "Windows XP (64-bit)"),
    (95, "Windows", "Windows 2000 Advanced Server"),
    (96, "SUSE", "SUSE Linux Enterprise 8(32-bit)"),
    (97, "SUSE", "SUSE Linux Enterprise 8(64-bit)"),
    (98, "Other", "Other Linux (32-bit)"),
    (99, "Other", "Other Linux (64-bit)"),
    (100, "Ubuntu", "Other Ubuntu (64-bit)"),
    (101, "Windows", "Windows Vista (64-bit)"),
    (102, "Windows", "DOS"),
    (103, "Other", "Other (64-bit)"),
    (104, "Other", "OS/2"),
    (105, "Windows", "Windows 2000 Professional"),
    (106, "RedHat", "Red Hat Enterprise Linux 4(64-bit)"),
    (107, "SUSE", "SUSE Linux Enterprise 9(32-bit)"),
    (108, "SUSE", "SUSE Linux Enterprise 9(64-bit)"),
    (109, "SUSE", "SUSE Linux Enterprise 10(32-bit)"),
    (110, "SUSE", "SUSE Linux Enterprise 10(64-bit)"),
    (111, "CentOS", "CentOS 5.5 (32-bit)"),
    (112, "CentOS", "CentOS 5.5 (64-bit)"),
    (113, "RedHat", "Red Hat Enterprise Linux 5.5 (32-bit)"),
    (114, "RedHat", "Red Hat Enterprise Linux 5.5 (64-bit)"),
    (115, "RedHat", "Fedora 13"),
    (116, "RedHat", "Fedora 12"),
    (117, "RedHat", "Fedora 11"),
    (118, "RedHat", "Fedora 10"),
    (119, "RedHat", "Fedora 9"),
    (120, "RedHat", "Fedora 8"),
    (121, "Ubuntu", "Ubuntu 10.04 (32-bit)"),
    (122, "Ubuntu", "Ubuntu 9.10 (32-bit)"),
    (123, "Ubuntu", "Ubuntu 9.04 (32-bit)"),
    (124, "Ubuntu", "Ubuntu 8.10 (32-bit)"),
    (125, "Ubuntu", "Ubuntu 8.04 (32-bit)"),
    (126, "Ubuntu", "Ubuntu 10.04 (64-bit)"),
    (127, "Ubuntu", "Ubuntu 9.10 (64-bit)"),
    (128, "Ubuntu", "Ubuntu 9.04 (64-bit)"),
    (129, "Ubuntu", "Ubuntu 8.10 (64-bit)"),
    (130, "Ubuntu", "Ubuntu 8.04 (64-bit)"),
    (131, "RedHat", "Red Hat Enterprise Linux 2"),
    (132, "Debian", "Debian GNU/Linux 6(32-bit)"),
    (133, "Debian", "Debian GNU/Linux 6(64-bit)"),
    (134, "Oracle", "Oracle Enterprise Linux 5.5 (32-bit)"),
    (135, "Oracle", "Oracle Enterprise Linux 5.5 (64-bit)"),
    (136, "RedHat", "Red Hat Enterprise Linux 6.0 (32-bit)"),
    (137, "RedHat", "Red Hat Enterprise Linux 6.0 (64-bit)"),
    (138, "Other", "None"),
    (139, "Other", "Other PV (32-bit)"),
    (140, "Other", "Other PV (64-bit)"),
    (141, "CentOS", "CentOS 5.6 (32-bit)"),
    (142, "CentOS", "CentOS 5.6 (64-bit)"),
    (143, "CentOS", "CentOS 6.0 (32-bit)"),
    (144, "CentOS", "CentOS 6.0 (64-bit)"),
    (145, "Oracle", "Oracle Enterprise Linux 5.6 (32-bit)"),
    (146, "Oracle", "Oracle Enterprise Linux 5.6 (64-bit)"),
    (147, "Oracle", "Oracle Enterprise Linux 6.0 (32-bit)"),
    (148, "Oracle", "Oracle Enterprise Linux 6.0 (64-bit)"),
    (149, "RedHat", "Red Hat Enterprise Linux 5.6 (32-bit)"),
    (150, "RedHat", "Red Hat Enterprise Linux 5.6 (64-bit)"),
    (151, "SUSE", "SUSE Linux Enterprise Server 10 SP3 (32-bit)"),
    (152, "SUSE", "SUSE Linux Enterprise Server 10 SP4 (64-bit)"),
    (153, "SUSE", "SUSE Linux Enterprise Server 10 SP4 (32-bit)"),
    (154, "SUSE", "SUSE Linux Enterprise Server 11 SP1 (64-bit)"),
    (155, "SUSE", "SUSE Linux Enterprise Server 11 SP1 (32-bit)"),
    (156, "Ubuntu", "Ubuntu 10.10 (32-bit)"),
    (157, "Ubuntu", "Ubuntu 10.10 (64-bit)"),
    (158, "Unix", "Sun Solaris 11 (64-bit)"),
    (159, "Unix", "Sun Solaris 11 (32-bit)"),
    (160, "Windows", "Windows PV"),
    (161, "CentOS", "CentOS 5.7 (32-bit)"),
    (162, "CentOS", "CentOS 5.7 (64-bit)"),
    (163, "Ubuntu", "Ubuntu 12.04 (32-bit)"),
    (164, "Ubuntu", "Ubuntu 12.04 (64-bit)"),
    (165, "Windows", "Windows 8 (32-bit)"),
    (166, "Windows", "Windows 8 (64-bit)"),
    (167, "Windows", "Windows Server 2012 (64-bit)"),
    (168, "Windows", "Windows Server 8 (64-bit)"),
    (169, "Ubuntu", "Ubuntu 11.04 (32-bit)"),
    (170, "Ubuntu", "Ubuntu 11.04 (64-bit)"),
    (171, "CentOS", "CentOS 6.3 (32-bit)"),
    (172, "CentOS", "CentOS 6.3 (64-bit)"),
    (173, "CentOS", "CentOS 5.8 (32-bit)"),
    (174, "CentOS", "CentOS 5.8 (64-bit)"),
    (175, "CentOS", "CentOS 5.9 (32-bit)"),
    (176, "CentOS", "CentOS 5.9 (64-bit)"),
    (177, "CentOS", "CentOS 6.1 (32-bit)"),
    (178, "CentOS", "CentOS 6.1 (64-bit)"),
    (179, "CentOS", "CentOS 6.2 (32-bit)"),
    (180, "CentOS", "CentOS 6.2 (64-bit)"),
    (181, "CentOS", "CentOS 6.4 (32-bit)"),
    (182, "CentOS", "CentOS 6.4 (64-bit)"),
    (183, "Debian", "Debian GNU/Linux 7(32-bit)"),
    (184, "Debian", "Debian GNU/Linux 7(64-bit)"),
    (185, "SUSE", "SUSE Linux Enterprise Server 11 SP2 (64-bit)"),
    (186, "SUSE", "SUSE Linux Enterprise Server 11 SP2 (32-bit)"),
    (187, "SUSE", "SUSE Linux Enterprise Server 11 SP3 (64-bit)"),
    (188, "SUSE", "SUSE Linux Enterprise Server 11 SP3 (32-bit)"),
    (189, "RedHat", "Red Hat Enterprise Linux 5.7 (32-bit)"),
    (190, "RedHat", "Red Hat Enterprise Linux 5.7 (64-bit)"),
    (191, "RedHat", "Red Hat Enterprise Linux 5.8 (32-bit)"),
    (192, "RedHat", "Red Hat Enterprise Linux 5.8 (64-bit)"),
    (193, "RedHat", "Red Hat Enterprise Linux 5.9 (32-bit)"),
    (194, "RedHat", "Red Hat Enterprise Linux 5.9 (64-bit)"),
    (195, "RedHat", "Red Hat Enterprise Linux 6.1 (32-bit)"),
    (196, "RedHat", "Red Hat Enterprise Linux 6.1 (64-bit)"),
    (197, "RedHat", "Red Hat Enterprise Linux 6.2 (32-bit)"),
    (198, "RedHat", "Red Hat Enterprise Linux 6.2 (64-bit)"),
    (199, "RedHat", "Red Hat Enterprise Linux 6.3 (32-bit)"),
    (200, "CentOS", "Other CentOS (32-bit)"),
    (201, "CentOS", "Other CentOS (64-bit)"),
    (202, "SUSE", "Other SUSE Linux(32-bit)"),
    (203, "SUSE", "Other SUSE Linux(64-bit)"),
    (204, "RedHat", "Red Hat Enterprise Linux 6.3 (64-bit)"),
    (205, "RedHat", "Red Hat Enterprise Linux 6.4 (32-bit)"),
    (206, "RedHat", "Red Hat Enterprise Linux 6.4 (64-bit)"),
    (207, "Oracle", "Oracle Enterprise Linux 5.7 (32-bit)"),
    (208, "Oracle", "Oracle Enterprise Linux 5.7 (64-bit)"),
    (209, "Oracle", "Oracle Enterprise Linux 5.8 (32-bit)"),
    (210, "Oracle", "Oracle Enterprise Linux 5.8 (64-bit)"),
    (211, "Oracle", "Oracle Enterprise Linux 5.9 (32-bit)"),
    (212, "Oracle", "Oracle Enterprise Linux 5.9 (64-bit)"),
    (213, "Oracle", "Oracle Enterprise Linux 6.1 (32-bit)"),
    (214, "Oracle", "Oracle Enterprise Linux 6.1 (64-bit)"),
    (215, "Oracle", "Oracle Enterprise Linux 6.2 (32-bit)"),
    (216, "Oracle", "Oracle Enterprise Linux 6.2 (64-bit)"),
    (217, "Oracle", "Oracle Enterprise Linux 6.3 (32-bit)"),
    (218, "Oracle", "Oracle Enterprise Linux 6.3 (64-bit)"),
    (219, "Oracle", "Oracle Enterprise Linux 6.4 (32-bit)"),
    (220, "Oracle", "Oracle Enterprise Linux 6.4 (64-bit)"),
    (221, "Other", "Apple Mac OS X 10.6 (32-bit)"),
    (222, "Other", "Apple Mac OS X 10.6 (64-bit)"),
    (223, "Other", "Apple Mac OS X 10.7 (32-bit)"),
    (224, "Other", "Apple Mac OS X 10.7 (64-bit)"),
)

# Offered by earlier releases of Stratus, not by 4.3: kept so their templates still resolve.
RETAINED: tuple[tuple[str, str], ...] = (
    ("CentOS", "CentOS 6.5 (64-bit)"),
    ("Debian", "Debian GNU/Linux 6 (64-bit)"),
    ("Debian", "Debian GNU/Linux 7 (64-bit)"),
    ("RedHat", "Red Hat Enterprise Linux 6.5 (64-bit)"),
    ("Ubuntu", "Ubuntu 14.04 (64-bit)"),
    ("Windows", "Windows Server 2012 R2 (64-bit)"),
    ("Unix", "FreeBSD 10 (64-bit)"),
)


@dataclass(frozen=True)
class OsType:
    """A guest OS that templates declare; ids are stable (uuid5 of the description)."""

    id: UUID
    description: str
    category_id: UUID
    category: str
    number: int  # 4.3's id; 0 for a type 4.3 does not ship


def category_id(name: str) -> UUID:
    return uuid5(_OS_NAMESPACE, f"os-category:{name}")


def os_type_id(description: str) -> UUID:
    return uuid5(_OS_NAMESPACE, f"os-type:{description}")


def _os_type(number: int, category: str, description: str) -> OsType:
    return OsType(os_type_id(description), description, category_id(category), category, number)


OS_TYPES: tuple[OsType, ...] = (
    *(_os_type(number, category, description) for number, category, description in SHIPPED),
    *(_os_type(0, category, description) for category, description in RETAINED),
)
OS_CATEGORIES: tuple[tuple[UUID, str], ...] = tuple((category_id(c), c) for c in CATEGORIES)
_BY_ID = {t.id: t for t in OS_TYPES}
_BY_NAME = {t.description: t for t in OS_TYPES}


def os_type(type_id: UUID) -> OsType | None:
    return _BY_ID.get(type_id)


def os_type_named(description: str) -> OsType:
    """The OS type of this exact description (a KeyError names a typo in a seed table)."""
    return _BY_NAME[description]
