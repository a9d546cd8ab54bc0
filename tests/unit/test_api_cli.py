"""`stratus api coverage` and `stratus api docs`: the catalogue as operators and readers see it."""

from __future__ import annotations

from pathlib import Path

from api.catalogue import coverage, declared
from entrypoint.cli import main

COMMANDS_DOC = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


def test_api_coverage_prints_each_family_and_the_total_against_4_3(capsys) -> None:
    assert main(["api", "coverage"]) == 0
    printed = capsys.readouterr().out.splitlines()
    implemented = sum(1 for c in declared() if not c.extension)
    assert printed[-1] == f"Total: {implemented}/474"
    for row in coverage():
        assert f"{row.family}: {len(row.implemented)}/{row.total}" in printed
    assert "Security groups: 7/7" in printed
    missing = [name for row in coverage() for name in row.missing]
    listed = [line for line in printed if line.startswith("  missing: ")]
    assert all(any(name in line for line in listed) for name in missing)
    assert bool(listed) == bool(missing)


def test_the_committed_command_reference_is_the_generated_one(capsys) -> None:
    assert main(["api", "docs"]) == 0
    generated = capsys.readouterr().out
    assert "### deployVirtualMachine" in generated
    assert COMMANDS_DOC.read_text() == generated, "run: stratus api docs > docs/commands.md"
