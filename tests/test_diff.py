"""`guidec diff` and the release gates: pairs of versions with their expected structural and
behavioural findings, git revisions, the textconv driver and `check --release`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.diff import compute, load_version, read_spec, structural_diff

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "fixtures" / "diff"
GUIDEC = [sys.executable, "-m", "cli"]


def report(name: str, witnesses: int = 3):  # type: ignore[no-untyped-def]
    old = load_version(*read_spec(str(PAIRS / "base.guide")))
    new = load_version(*read_spec(str(PAIRS / f"{name}.guide")))
    return compute(old, new, witnesses)


def changes(r) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(c.kind, c.category, c.subject) for c in r.structure.changes
            if c.category != "header"}


def behaviour(r) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(b.kind, b.subject) for b in r.behaviour.changes}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*GUIDEC, *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=env, timeout=120)


def test_renamed_action_is_a_rename_without_behavioural_change() -> None:
    r = report("renamed_action")
    assert changes(r) == {("renamed", "action", "chemo -> chemotherapy")}
    assert r.behaviour.decided and not r.behaviour.changes
    assert [c.subject for c in r.breaking] == ["chemo -> chemotherapy"]


def test_tightened_threshold_has_a_witness_on_the_boundary() -> None:
    r = report("tightened_threshold")
    (change,) = changes(r)
    assert change == ("changed", "let", "fit")
    detail = next(c.detail for c in r.structure.changes if c.category == "let")
    assert detail == "threshold: kps >= 70 and not obstructed -> kps >= 80 and not obstructed"
    assert ("lost", "targeted") in behaviour(r)
    assert ("gained", "supportive") in behaviour(r)
    for b in r.behaviour.changes:
        for w in b.witnesses:
            assert w.patient["kps"] == 70  # the only KPS between the two thresholds
            assert w.old_path != w.new_path
    assert not r.breaking


def test_reorganised_lets_are_proven_equivalent() -> None:
    r = report("reorganised_lets")
    assert ("changed", "let", "fit") in changes(r)
    assert ("added", "let", "good_kps") in changes(r)
    assert r.behaviour.decided and not r.behaviour.changes
    assert not r.behaviour_changed


def test_added_branch_gains_an_action_with_witnesses_and_both_paths() -> None:
    r = report("added_branch", witnesses=2)
    assert ("added", "branch", "treat branch 2") in changes(r)
    assert ("added", "step", "intensive") in changes(r)
    assert behaviour(r) == {("gained", "intrathecal")}
    (gain,) = r.behaviour.changes
    assert len(gain.witnesses) == 2
    for w in gain.witnesses:
        assert w.patient["mutation"] == "wild_type" and w.patient["kps"] >= 90
        assert "intensive" in w.new_path and "intensive" not in w.old_path


def test_removed_never_rule_is_structural_only() -> None:
    r = report("removed_never")
    assert changes(r) == {("removed", "rule", "never intrathecal when obstructed")}
    assert not r.behaviour.changes and r.behaviour.decided


def test_new_required_input_is_breaking_and_changes_behaviour() -> None:
    r = report("new_required_input", witnesses=1)
    assert ("added", "input", "age") in changes(r)
    assert [c.subject for c in r.breaking] == ["age"]
    assert ("lost", "targeted") in behaviour(r)
    witness = r.behaviour.changes[0].witnesses[0]
    assert witness.patient["age"] >= 90


def test_new_optional_input_is_not_breaking() -> None:
    old = load_version(*read_spec(str(PAIRS / "base.guide")))
    text = (PAIRS / "base.guide").read_text(encoding="utf-8").replace(
        'input obstructed "CSF flow obstructed": boolean',
        'input obstructed "CSF flow obstructed": boolean\ninput remark "Remark": optional boolean')
    new = load_version("new.guide", text)
    diff = structural_diff(old.model, new.model)
    assert [(c.kind, c.subject, c.breaking) for c in diff.changes] == [("added", "remark", False)]


def test_json_format_lists_gained_and_lost_with_witnesses() -> None:
    proc = run("diff", str(PAIRS / "base.guide"), str(PAIRS / "added_branch.guide"),
               "--format", "json", "--max-witnesses", "1")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (change,) = data["behavioural"]
    assert change["action"] == "intrathecal" and change["change"] == "gained"
    (w,) = change["witnesses"]
    assert set(w) == {"patient", "old_path", "new_path", "old", "new"}
    assert data["behaviour_changed"] is True and data["decided"] is True


def test_markdown_is_ready_for_a_review() -> None:
    proc = run("diff", str(PAIRS / "base.guide"), str(PAIRS / "renamed_action.guide"),
               "--format", "markdown")
    assert proc.returncode == 0
    assert proc.stdout.startswith("## guidec diff: `triage` 1.0.0 → 2.0.0")
    assert "**No behavioural change** (proven)." in proc.stdout
    assert "| renamed ⚠ breaking | action `chemo -> chemotherapy` |" in proc.stdout


def test_exit_code_flag() -> None:
    same = run("diff", str(PAIRS / "base.guide"), str(PAIRS / "reorganised_lets.guide"),
               "--exit-code")
    changed = run("diff", str(PAIRS / "base.guide"), str(PAIRS / "added_branch.guide"),
                  "--exit-code")
    plain = run("diff", str(PAIRS / "base.guide"), str(PAIRS / "added_branch.guide"))
    assert (same.returncode, changed.returncode, plain.returncode) == (0, 1, 0)


def test_bad_inputs_exit_2_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.guide"
    broken.write_text('guideline x "t"\ninput\n', encoding="utf-8")
    for args in (("missing.guide", str(PAIRS / "base.guide")),
                 (str(PAIRS / "base.guide"), str(broken)),
                 (str(PAIRS / "base.guide"),)):
        proc = run("diff", *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, **env})

    git("init", "-q")
    shutil.copy(PAIRS / "base.guide", tmp_path / "triage.guide")
    git("add", "triage.guide")
    git("commit", "-qm", "v1")
    shutil.copy(PAIRS / "added_branch.guide", tmp_path / "triage.guide")
    git("commit", "-qam", "v1.1")
    return tmp_path


def test_rev_path_reads_through_git(repo: Path) -> None:
    proc = run("diff", "HEAD~1:triage.guide", "triage.guide", "--format", "json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["old"]["label"] == "HEAD~1:triage.guide"
    assert [b["action"] for b in data["behavioural"]] == ["intrathecal"]
    bad = run("diff", "nope:triage.guide", "triage.guide", cwd=repo)
    assert bad.returncode == 2 and "nope:triage.guide" in bad.stderr


def test_textconv_driver_shows_the_semantic_outline_in_git_diff(repo: Path) -> None:
    (repo / ".gitattributes").write_text("*.guide diff=guidec\n", encoding="utf-8")
    guidec = " ".join([sys.executable, "-m", "cli"])
    subprocess.run(["git", "config", "diff.guidec.textconv", f"{guidec} diff --textconv"],
                   cwd=repo, check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(["git", "diff", "HEAD~1", "HEAD", "--", "triage.guide"], cwd=repo,
                         capture_output=True, text=True, env=env, check=True).stdout
    assert "+  when mutation == wild_type and kps >= 90 -> intensive" in out
    assert "+step intensive: Intensive" in out


def test_release_gates(repo: Path) -> None:
    ok = run("check", "--release", "--since", "HEAD~1", "triage.guide", cwd=repo)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    text = (repo / "triage.guide").read_text(encoding="utf-8")
    (repo / "triage.guide").write_text(text.replace("version 1.1.0", "version 1.0.0"),
                                       encoding="utf-8")
    stale = run("check", "--release", "--since", "HEAD~1", "triage.guide", cwd=repo)
    assert stale.returncode == 1
    assert "error[E602]: behaviour changed since HEAD~1" in stale.stdout
    (repo / "triage.guide").write_text(text.replace("version 1.1.0", "version 1.2.0"),
                                       encoding="utf-8")
    no_log = run("check", "--release", "--since", "HEAD~1", "triage.guide", cwd=repo)
    assert "error[E603]" in no_log.stdout and no_log.returncode == 1
    draft = text.replace("status approved", "status draft")
    (repo / "triage.guide").write_text(draft, encoding="utf-8")
    assert "error[E601]" in run("check", "--release", "triage.guide", cwd=repo).stdout


def test_breaking_change_needs_a_major_version(repo: Path) -> None:
    shutil.copy(PAIRS / "new_required_input.guide", repo / "triage.guide")
    proc = run("check", "--release", "--since", "HEAD", "triage.guide", cwd=repo)
    assert proc.returncode == 1
    assert "error[E604]: a breaking interface change needs a new major version" in proc.stdout


VIGNETTES = """
patient borderline kps = 70, mutation = mutant, obstructed = false
case "KPS 70 with a mutation" from borderline
  expect supportive
case "KPS 90 with a mutation" from borderline with kps = 90
  expect targeted
"""


def test_the_committees_cases_are_the_first_witnesses_and_listed_when_they_change() -> None:
    old = load_version(*read_spec(str(PAIRS / "base.guide")))
    text = (PAIRS / "tightened_threshold.guide").read_text(encoding="utf-8") + VIGNETTES
    r = compute(old, load_version("tightened.guide", text), 2)
    # Patients at KPS 70 with open flow gain supportive care, whatever their mutation.
    gained = next(b for b in r.behaviour.changes if (b.kind, b.subject) == ("gained", "supportive"))
    first = gained.witnesses[0]
    assert first.case == "KPS 70 with a mutation"
    assert first.patient == {"kps": 70, "mutation": "mutant", "obstructed": False}
    assert gained.witnesses[1].case is None  # then the solver's own patients, different ones
    assert gained.witnesses[1].patient.get("mutation") != "mutant"
    # Only the case whose outcome changed is listed, with both outcomes.
    assert [(c.title, c.old.split(" (")[0], c.new.split(" (")[0]) for c in r.cases] == [
        ("KPS 70 with a mutation", "recommends targeted, intrathecal", "recommends supportive")]
    from compiler.diff import render_json, render_markdown, render_text

    md = render_markdown(r)
    assert "### Cases whose outcome changed" in md
    assert "- **KPS 70 with a mutation**" in md and "KPS 90 with a mutation" not in md
    assert "patient (case “KPS 70 with a mutation”) `" in md
    assert "  KPS 70 with a mutation\n    patient: " in render_text(r)
    assert render_json(r)["cases"][0]["case"] == "KPS 70 with a mutation"  # type: ignore[index]


def test_a_case_the_old_version_refuses_is_listed_as_invalid_there() -> None:
    old = load_version(*read_spec(str(PAIRS / "base.guide")))
    text = (PAIRS / "base.guide").read_text(encoding="utf-8").replace(
        "one of mutant, wild_type", "one of mutant, wild_type, equivocal") + (
        'patient odd kps = 90, mutation = equivocal, obstructed = false\n'
        'case "Equivocal mutation result" from odd\n  expect chemo\n')
    r = compute(old, load_version("new.guide", text), 1)
    [case] = r.cases
    assert case.old.startswith("not a valid patient: mutation: must be one of mutant, wild_type")
    assert case.new.startswith("recommends chemo")


EVAL = ROOT / "tests" / "fixtures" / "eval"


@pytest.mark.parametrize(("guide", "old", "new", "gained"), [
    ("time.guide", "<= 4.5 hours", "<= 4 hours", "no_thrombolysis"),
    ("time.guide", "< 14 days", "< 10 days", "thrombolysis"),
    ("units.guide", "glucose < 50 'mg/dL'", "glucose < 60 'mg/dL'", "correct_glucose"),
    ("sets.guide", "(recent_bleed, low_platelets) -> not_eligible",
     "(recent_bleed) -> not_eligible", "decline"),
    ("scores.guide", "when risk >= 2 -> high", "when risk >= 3 -> high", "anticoagulate"),
])
def test_behaviour_diff_over_the_newer_constructs(tmp_path: Path, guide: str, old: str,
                                                  new: str, gained: str) -> None:
    """Durations, units, sets and scores: the diff decides (no solver limit), and its witness
    patients are valid JSON patients of both versions."""
    source = (EVAL / guide).read_text(encoding="utf-8")
    assert old in source
    changed = tmp_path / guide
    changed.write_text(source.replace(old, new), encoding="utf-8")
    r = compute(load_version(*read_spec(str(EVAL / guide))),
                load_version(*read_spec(str(changed))), 2)
    found = behaviour(r)
    assert ("gained", gained) in found or ("lost", gained) in found, found
    text = run("diff", str(EVAL / guide), str(changed))
    assert "could not decide" not in text.stdout and "Traceback" not in text.stderr


def test_diff_witnesses_read_like_patients(tmp_path: Path) -> None:
    """A solver's patient in a diff keeps inside the typical ranges where the change allows,
    and its dates fall on the new version's `updated` date, not in 1900 or 1970."""
    guide = ROOT / "guidelines" / "alteplase.guide"
    source = guide.read_text(encoding="utf-8")
    old_window = "hours between last_known_well and assessed_at <= 3 hours"
    assert old_window in source
    changed = tmp_path / "alteplase.guide"
    changed.write_text(source.replace(old_window, old_window.replace("3 hours", "3.5 hours")),
                       encoding="utf-8")
    old, new = load_version(*read_spec(str(guide))), load_version(*read_spec(str(changed)))
    r = compute(old, new, 2)
    witnesses = [w for b in r.behaviour.changes for w in b.witnesses if w.case is None]
    assert witnesses
    model = new.model
    assert model is not None
    for w in witnesses:
        lkw, seen = str(w.patient["last_known_well"]), str(w.patient["assessed_at"])
        assert seen.startswith(model.meta.updated), w.patient
        assert lkw < seen
        for name, value in w.patient.items():
            band = model.inputs[name].typical
            if band is not None and isinstance(value, int | float):
                assert band[0] <= value <= band[1], (name, value)
