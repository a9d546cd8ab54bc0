"""Kept JSON with slots: what `template` makes of a body rendered with markers, and that
filling its slots gives what encoding the whole body gives."""

from __future__ import annotations

import orjson

from api.fragments import marker, quoted, template


def test_slots_are_found_in_order_whatever_their_names_hold() -> None:
    body = {"id": "1", "dns1": marker("zone_dns1"), marker("admin2"): 0, "n": 5}
    text, names = template(body)
    assert names == ("zone_dns1", "admin2")
    assert text == '{"id":"1","dns1":%s%s,"n":5}'


def test_filled_slots_give_the_bytes_of_the_whole_body() -> None:
    body = {"name": 'web "1" 100% «é»', "zone": marker("zone"), marker("admin"): 0, "k": [1]}
    text, _ = template(body)
    filled = text % (quoted('zone "z" 5%'), ',"hostid":"h"')
    whole = {"name": 'web "1" 100% «é»', "zone": 'zone "z" 5%', "hostid": "h", "k": [1]}
    assert filled.encode() == orjson.dumps(whole)


def test_a_marker_inside_the_data_is_escaped_text_not_a_slot() -> None:
    _, names = template({"name": "\\u001fzone", "zone": marker("zone")})
    assert names == ("zone",)
