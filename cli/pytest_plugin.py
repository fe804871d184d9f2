"""pytest plugin: every `case` of a ``.guide`` file is a test item.

``pytest guidelines/`` runs the clinical vignettes of every guideline under ``guidelines/``
(any ``.guide`` file in a collected directory), one item per case, with the case's expected
and actual results on failure. A guideline that does not check clean is one failing item that
shows the errors. Only ``.guide`` files are collected, and none under a ``fixtures``
directory (those are test inputs, some deliberately broken), so a normal run of ``tests/`` is
unaffected. Registered through the ``pytest11`` entry point; imports guidec lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``.guide`` files (outside ``fixtures`` directories)."""
    if file_path.suffix != ".guide" or "fixtures" in file_path.parts[:-1]:
        return None
    collected: GuideFile = GuideFile.from_parent(parent, path=file_path)
    return collected


class CaseFailed(Exception):
    """A case whose expectations do not hold; carries the rendered explanation."""


class GuideFile(pytest.File):
    """A guideline file: one item per case (or one failing item for check errors)."""

    def collect(self) -> Iterator[pytest.Item]:
        """Check the guideline, then yield its cases."""
        from compiler.pipeline import InputError, check_file

        try:
            result = check_file(self.path)
        except InputError as exc:
            yield GuideCheck.from_parent(self, name="check", report=f"error: {exc}")
            return
        if result.model is None:
            from cli.report import text_report

            yield GuideCheck.from_parent(self, name="check", report=text_report([result]))
            return
        seen: dict[str, int] = {}
        for case in result.model.cases:
            name = case.title.replace("::", ": :") or "(untitled case)"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} [{seen[name]}]"
            yield GuideCase.from_parent(self, name=name, model=result.model, case=case)


class _GuideItem(pytest.Item):
    """An item whose failure is a :class:`CaseFailed` explanation, shown as it is."""

    #: No fixtures. Some plugins read every item's ``funcargs`` and fail without it
    #: (pytest-lsp 1.0's ``pytest_runtest_call`` wrapper returns without yielding).
    funcargs: dict[str, object] = {}  # noqa: RUF012 (never written)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        """The explanation instead of a traceback."""
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class GuideCheck(_GuideItem):
    """A guideline that does not check clean: its cases cannot be trusted."""

    def __init__(self, *, report: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report = report

    def runtest(self) -> None:
        """Always fails with the check report."""
        raise CaseFailed(f"{self.path.name} has errors; its cases were not run\n{self.report}")

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where: the guideline file."""
        return self.path, 0, f"guidec check {self.path.name}"


class GuideCase(_GuideItem):
    """One case block, run on the reference interpreter."""

    def __init__(self, *, model: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.case = case

    def runtest(self) -> None:
        """Evaluate the case's patient and check its expectations."""
        from compiler.cases import render_case, run_case

        result = run_case(self.model, self.case)
        if not result.passed:
            raise CaseFailed("\n".join(render_case(result, str(self.path))))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where: the case's line in the guideline."""
        return self.path, self.case.span.line - 1, f"case {self.case.title!r}"
