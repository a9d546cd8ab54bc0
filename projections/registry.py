"""The list of every read model the product keeps, in the order the runner visits them."""

from __future__ import annotations

from stratus.projection import Projection

ALL: list[type[Projection]] = []
