"""`make demo`: the main job on the flagship guideline, into build/, saying what it wrote.

It checks the guideline, runs its clinical vignettes, builds every target (and the flowchart
again as an A3 wall poster), and evaluates the example patients of guidelines/examples/ with
the generated evaluator. Then the same for the draft guidelines (CURB-65, IV alteplase), each
into build/<id>/: checked, its cases run, its flowchart and handout built, one of its example
patients evaluated.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = Path("guidelines") / "leptomeningeal.guide"
# The draft guidelines, and the example patient (declared in the guide) `guidec eval` shows.
DRAFTS = {"curb65": "frail_old", "alteplase": "hypertensive"}
EXAMPLES = ROOT / "guidelines" / "examples"
BUILD = Path("build")
GUIDEC = [sys.executable, "-m", "cli"]


def run(args: list[str]) -> int:
    """Run guidec with ``args`` in the repository root, echoing the command line."""
    print("\n$ guidec " + " ".join(args), flush=True)
    return subprocess.call([*GUIDEC, *args], cwd=ROOT)


def show_example(path: Path) -> None:
    """Evaluate one example patient with the generated module and print what to do."""
    sys.path.insert(0, str(ROOT / BUILD))
    import leptomeningeal  # type: ignore[import-not-found]  # generated into build/

    patient = json.loads(path.read_text(encoding="utf-8"))
    result = leptomeningeal.evaluate(patient)
    print(f"\n{path.name}:")
    for rec in result.recommendations:
        verb = "Use" if rec.strength == "strong" else "Consider"
        print(f"  - {verb}: {rec.text} [{rec.id}]")
        if rec.detail:
            print(f"      {rec.detail}")
    for p in result.pending:
        print(f"  - pending at {p.decision}: waiting for {', '.join(p.inputs)}")


def main() -> int:
    """Check, test, build, and evaluate the examples; return the worst exit code."""
    status = run(["check", str(GUIDE)])
    if status:
        return status
    status = max(status, run(["test", str(GUIDE)]))
    build = run(["build", str(GUIDE), "-o", str(BUILD)])
    if build not in (0, 3):
        return build
    # The wall poster: the flagship's flowchart on one A3 sheet.
    if build == 0:
        run(["build", str(GUIDE), "-o", str(BUILD / "a3"), "-t", "pdf", "--paper", "a3"])
    for example in sorted(EXAMPLES.glob("*.json")):
        show_example(example)
    print(f"\nwrote {BUILD}/: " + ", ".join(sorted(p.name for p in (ROOT / BUILD).iterdir()
                                                 if p.is_file())))
    if (ROOT / BUILD / "a3" / "leptomeningeal.pdf").is_file():
        print(f"wrote {BUILD}/a3/leptomeningeal.pdf (the flowchart as an A3 wall poster)")
    for draft, patient in DRAFTS.items():
        status = max(status, demo_draft(draft, patient))
    return status


def demo_draft(name: str, patient: str) -> int:
    """Check a draft guideline, run its cases, build its flowchart and handout into
    build/<name>/, and evaluate one of its declared patients; the worst exit code."""
    guide = str(Path("guidelines") / f"{name}.guide")
    out = BUILD / name
    status = run(["check", guide])
    if status:
        return status
    status = run(["test", guide])
    targets = ["-t", "png", "-t", "pdf", "-t", "html"]
    build = run(["build", guide, "-o", str(out), *targets])
    if build == 3:  # no Graphviz: the handout still builds
        build = run(["build", guide, "-o", str(out), "-t", "html"])
    status = max(status, build)
    status = max(status, run(["eval", guide, "--patient", patient]))
    print(f"\nwrote {out}/: " + ", ".join(sorted(p.name for p in (ROOT / out).iterdir()
                                                if p.is_file())))
    return status


if __name__ == "__main__":
    sys.exit(main())
