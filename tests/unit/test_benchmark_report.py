"""benchmarks/report.py turns result files into the BENCHMARKS.md tables it claims."""

import json
import sys
from pathlib import Path

from ted_graph.distillation.evaluation import EvalResult

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import advice  # noqa: E402  (benchmarks/advice.py)
import conditions  # noqa: E402  (benchmarks/conditions.py)
import report  # noqa: E402  (benchmarks/report.py)
import versions  # noqa: E402  (benchmarks/versions.py)


def result(correct_flags, experiences="none", with_exp=()):
    preds = [
        {
            "id": f"q{i}",
            "answer": "A",
            "prediction": "A" if ok else "B",
            "correct": ok,
            "experience_ids": ["e1"] if i in with_exp else [],
            "prompt_tokens": 100 + (20 if i in with_exp else 0),
            "completion_tokens": 10,
            "response": "Answer: A" if ok else "Answer: B",
        }
        for i, ok in enumerate(correct_flags)
    ]
    return EvalResult(
        correct=sum(correct_flags),
        total=len(preds),
        seconds=10.0,
        predictions=preds,
        experiences=experiences,
        model="m",
    )


def test_report_tables_come_from_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "HERE", tmp_path)
    pair = tmp_path / "conditions" / "default"
    task = pair / "toy"
    (task / "ted" / "run").mkdir(parents=True)
    (pair / "run.json").write_text(
        json.dumps(
            {
                "commands": ["python benchmarks/conditions.py --tasks toy"],
                "settings": {
                    "student": "s",
                    "teacher": "t",
                    "train": 4,
                    "test": 20,
                    "seed": 0,
                    "epochs": 1,
                    "rollouts": 4,
                    "batch_size": 8,
                },
                "machine": "x86_64",
                "python": "3.11",
            }
        )
    )
    (task / "split.json").write_text("{}")
    alone = [i % 4 == 0 for i in range(20)]  # 5/20
    better = [i % 2 == 0 for i in range(20)]  # 10/20, a superset of alone's right answers
    result(alone).save(task / "student.json")
    result(better, "retrieved", with_exp=range(0, 20, 2)).save(task / "ted-retrieved.json")
    result(alone, "all", with_exp=range(20)).save(task / "ted-all.json")
    result([True] * 20).save(task / "teacher.json")
    (task / "ted" / "roles.json").write_text(json.dumps({"student": "s", "teacher": "t"}))
    usage = {
        "s": {"total_tokens": 1000, "busy_seconds": 1.0},
        "t": {"total_tokens": 5000, "busy_seconds": 2.0},
    }
    history = [{"critiqued": 2, "added": 1, "updated": 0, "deleted": 0, "rejected": 3}]
    (task / "ted" / "run" / "result.json").write_text(
        json.dumps({"usage": usage, "history": history, "seconds": 200.0})
    )
    exp = {"id": "e1", "text": "When ordering, place fixed items first.", "status": "active"}
    (task / "ted" / "run" / "experiences.json").write_text(json.dumps({"experiences": [exp]}))
    (task / "curve.json").write_text(
        json.dumps(
            [
                {"step": -1, "library_size": 0, "accuracy": 0.25, "interval": [0.1, 0.5]},
                {"step": 0, "library_size": 1, "accuracy": 0.5, "interval": [0.3, 0.7]},
            ]
        )
    )
    (task / "ted" / "curation.log").write_text(
        "ted_graph.curation: problem toy-1: experience rejected, describes the student instead"
        " of advising the solver: 'When the student got it wrong, ...'\n"
        "ted_graph.curation: problem toy-2: no valid operations (invalid JSON: Expecting ',')\n"
    )
    result(alone).save(task / "finetune.json")
    (task / "finetune-cost.json").write_text(
        json.dumps(
            {
                "settings": {"method": "lora"},
                "teacher_solutions": {
                    "seconds": 30.0,
                    "usage": {"t": {"total_tokens": 700}},
                    "records": [{"correct": True}, {"correct": False}],
                },
                "training": {
                    "seconds": 20.0,
                    "train_tokens": 300,
                    "examples": 1,
                    "steps": 3,
                    "changed_parameters": 1234,
                },
            }
        )
    )
    result(alone).save(task / "no-compression.json")
    (task / "no-compression.derived.json").write_text('{"same_as": "ted"}')
    result(alone).save(task / "no-teacher.json")
    (task / "no-teacher.derived.json").write_text(
        '{"same_as": "student.json", "reason": "the distilled library is empty"}'
    )
    text = report.section(pair, tmp_path / "results" / "plots")
    assert f"![conditions-default]({(tmp_path / 'results' / 'plots').resolve().as_posix()}/" in text
    assert "(the TED run: its compressions changed nothing)" in text
    assert "(= student: the distilled library is empty)" in text
    assert (
        "| toy | fine-tuning (lora) | 50 (30 teacher + 20 training) | 300 trained | 700 |" in text
    )
    assert "1 examples (the teacher's right answers of 2), 3 steps, 1,234 weights" in text
    assert "| +0.000 | 0.25x |" in text
    assert "1 × describes the student instead of advising the solver" in text
    assert "1 × no valid operations (invalid JSON)" in text
    assert "| student alone | 0.250 [0.112, 0.469] |" in text
    assert "Δ +0.250" in text  # 5 more right of 20, on the same items
    assert "| no teacher (self-critique) | 0.250 [0.112, 0.469]<br>Δ +0.000" in text
    assert "| toy | TED distillation | 200 | 1,000 | 5,000 |" in text
    assert "100 → 110 → 120" in text  # prompt tokens grow with the experiences
    assert "1 added" in text and "retrieved into 10 test prompts" in text
    assert "5 wrong → right and 0 right → wrong" in text
    assert (tmp_path / "results" / "plots" / "conditions-default.png").stat().st_size > 1000
    assert (tmp_path / "results" / "plots" / "curve-default.png").exists()
    marked = "a\n<!-- conditions:default:begin -->\nold\n<!-- conditions:default:end -->\nb"
    assert report.replace_section(marked, "conditions:default", "new\n") == (
        "a\n<!-- conditions:default:begin -->\nnew\n<!-- conditions:default:end -->\nb"
    )


def test_compression_was_idle(tmp_path):
    run = tmp_path / "ted"
    run.mkdir()
    assert not conditions.compression_was_idle(run)  # no log: unknown, run the ablation
    idle = (
        "ted_graph.graph: step 1 compression: "
        "CompressionReport(removed=0, merged=0, rewritten=0, dropped=0)"
    )
    (run / "curation.log").write_text(f"ted_graph.curation: problem x: rejected\n{idle}\n")
    assert conditions.compression_was_idle(run)
    busy = idle.replace("merged=0", "merged=1")
    (run / "curation.log").write_text(f"{idle}\n{busy}\n")
    assert not conditions.compression_was_idle(run)


def test_finetune_against_its_own_backend_examples_and_stage_costs(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "HERE", tmp_path)
    pair = tmp_path / "conditions" / "qwen"
    task = pair / "toy"
    task.mkdir(parents=True)
    settings = {"student": "s", "teacher": "t", "train": 4, "test": 20, "seed": 0,
                "epochs": 1, "rollouts": 4, "batch_size": 8}  # fmt: skip
    meta = {"commands": ["c"], "settings": settings, "machine": "x", "python": "3.11"}
    (pair / "run.json").write_text(json.dumps(meta))
    (task / "split.json").write_text("{}")
    alone = [i % 4 == 0 for i in range(20)]  # 5/20
    half = [i % 2 == 0 for i in range(20)]  # 10/20
    result(alone).save(task / "student.json")
    result(half).save(task / "finetune-base.json")  # the transformers copy, untrained
    result(half).save(task / "finetune.json")  # training changed nothing
    result(half).save(task / "examples.json")
    tokens = conditions.stage_tokens(task, "student")
    (task / "student.done").write_text(json.dumps({"seconds": 12.0, **tokens}))
    (task / "examples.done").write_text(json.dumps({"seconds": 30.0}))  # an older marker
    text = report.section(pair)  # no plots folder: no plots
    assert "![" not in text and not (tmp_path / "plots").exists()
    assert "| fine-tuned (LoRA) | 0.500 [0.299, 0.701]<br>Δ +0.000" in text
    assert "(against the same weights untrained)" in text
    assert "| worked examples | 0.500 [0.299, 0.701]<br>Δ +0.250" in text
    assert "| toy | student | 12 | 2,200 | 0 |" in text  # 20 x (100 + 10) tokens
    assert "| toy | examples | 30 |  |  |" in text


def test_plot_links_are_relative_inside_the_repository(tmp_path):
    inside = report.ROOT / "benchmarks" / "results" / "plots" / "curve-qwen.png"
    assert report._link(inside) == "benchmarks/results/plots/curve-qwen.png"
    assert report._link(tmp_path / "p.png") == (tmp_path / "p.png").resolve().as_posix()


def test_keep_serves_the_version_the_dev_scores_keep(tmp_path):
    task = tmp_path / "toy"
    run = task / "ted"
    (run / "run").mkdir(parents=True)
    earlier = {"problems": 10, "without": 0.2, "scores": [[-1, 0.2], [0, 0.1], [1, 0.2]],
               "kept_step": -1}  # fmt: skip
    (run / "run" / "result.json").write_text(json.dumps({"validation": earlier, "history": []}))
    (run / "run" / "experiences.json").write_text(json.dumps({"experiences": []}))
    (run / "roles.json").write_text(json.dumps({"student": "s", "resumed": True}))
    for name in ("ted-retrieved.json", "ted-all.json", "ted-all.derived.json", "student.json"):
        (task / name).write_text("{}")

    def records(*texts):
        return [{"id": f"e{i}", "text": t, "status": "active"} for i, t in enumerate(texts)]

    steps = [(0, records("When a, b."), 0.2), (1, records("When a, b.", "When c, d."), 0.2),
             (2, records("When e, f."), 0.1)]  # fmt: skip
    report_ = versions.keep(run, 40, 0.125, steps, "python benchmarks/versions.py --keep")
    # the best score, the earliest among equals: step 0 (step 1 only ties it)
    assert report_.kept_step == 0 and report_.scores == [(-1, 0.125), (0, 0.2), (1, 0.2), (2, 0.1)]
    served = json.loads((run / "run" / "experiences.json").read_text())["experiences"]
    assert [e["text"] for e in served] == ["When a, b."]
    result = json.loads((run / "run" / "result.json").read_text())
    assert result["validation"]["problems"] == 40 and result["validation"]["kept_step"] == 0
    roles = json.loads((run / "roles.json").read_text())
    assert roles["revalidated"]["earlier"] == earlier and roles["student"] == "s"
    # the earlier version's test evaluations are gone, the student's stays
    assert sorted(p.name for p in task.glob("*.json")) == ["student.json"]
    said = report.revalidated(run)
    assert "40 problems of the dev pool" in said and "had kept the empty library" in said

    # again (a second --keep): the run's own report stays the earlier one
    versions.keep(run, 40, 0.3, steps, "python benchmarks/versions.py --keep")
    again = json.loads((run / "roles.json").read_text())["revalidated"]
    assert again["earlier"] == earlier
    served = json.loads((run / "run" / "experiences.json").read_text())["experiences"]
    assert served == []  # nothing beat the student alone: the empty library


def test_the_header_says_what_each_task_validated_on(tmp_path):
    folders = {}
    for task, split, roles in [
        ("a", {"validation": ["x", "y"]}, {}),
        ("b", {}, {"revalidated": {"problems": 40, "earlier": {"problems": 10}}}),
        ("c", {}, {}),
    ]:
        folders[task] = tmp_path / task
        (folders[task] / "ted").mkdir(parents=True)
        (folders[task] / "split.json").write_text(json.dumps(split))
        (folders[task] / "ted" / "roles.json").write_text(json.dumps(roles))
    said = report.validation_setting(folders, 10)
    assert "on 2 problems between the training and test splits (a)" in said
    again = "on 10 of the training problems, the served version chosen again after the run on 40"
    assert again in said
    assert said.endswith("; on 10 of the training problems (c)")
    assert report.validation_setting({"c": folders["c"]}, 0) == ""
    assert report.validation_setting({"a": folders["a"]}, 10) == (
        "; validation on 2 problems between the training and test splits"
    )


def test_a_condition_is_compared_with_the_student_alone_on_its_own_cpu(tmp_path, monkeypatch):
    task = tmp_path / "toy"
    task.mkdir()
    (task / "split.json").write_text("{}")
    (task / "student.done").write_text(json.dumps({"seconds": 1, "machine": "Old, AVX2"}))
    here = "New CPU, AVX-512"
    alone_old = [i % 4 == 0 for i in range(20)]  # 5/20, on the old CPU
    alone_new = [i % 2 == 0 for i in range(20)]  # 10/20 here
    ted = [i % 2 == 0 or i == 1 for i in range(20)]  # 11/20 here: +1 against the same CPU
    result(alone_old).save(task / "student.json")  # from before machines.json: its .done
    monkeypatch.setattr(conditions, "cpu_kind", lambda: here)
    for flags, name in ((ted, "ted-retrieved.json"), (alone_new, conditions.alone_file(here))):
        result(flags, "retrieved").save(task / name)
        conditions.record_machine(task / name)
    result(alone_old).save(task / "ted-all.json")  # an empty library: the student's result
    (task / "ted-all.derived.json").write_text(
        json.dumps({"same_as": "student.json", "reason": "the distilled library is empty"})
    )
    assert conditions.alone_file(here) == "student@new-cpu-avx-512.json"
    assert conditions.machine_of(task, "student.json") == "Old, AVX2"
    assert conditions.machine_of(task, "ted-retrieved.json") == here
    assert conditions.machine_of(task, "ted-all.json") == "Old, AVX2"  # its source's
    assert conditions.machine_of(task, "teacher.json") == ""

    results = report.load_task(task)
    assert report.baseline_of("ted", results) == f"student@{here}"
    assert report.baseline_of("ted_all", results) == "student"
    table = "\n".join(report.accuracy_table({"toy": results}))
    assert "Δ +0.050" in table and f"(against the student alone on the same CPU: {here})" in table
    assert f"<br>on {here}: 0.500" in table  # the student alone's row shows both CPUs


def test_alone_here_evaluates_the_student_alone_once_per_cpu(tmp_path, monkeypatch):
    out = tmp_path / "toy"
    out.mkdir()
    (out / "student.done").write_text(json.dumps({"seconds": 1, "machine": "Old"}))
    result([True, False]).save(out / "student.json")
    result([True, True]).save(out / "ted-retrieved.json")
    (out / "ted.done").write_text(json.dumps({"seconds": 1, "machine": "New"}))
    monkeypatch.setattr(conditions, "cpu_kind", lambda: "New")
    runner = conditions.Runner.__new__(conditions.Runner)
    calls = []
    runner.model = lambda spec: spec
    runner.args = type("Args", (), {"student": "s"})()
    runner.evaluate = lambda model, test, path, **kw: calls.append(path.name)
    runner.alone_here(out, [], "ted")
    assert calls == ["student@new.json"]
    monkeypatch.setattr(conditions, "cpu_kind", lambda: "Old")  # student.json's own CPU
    runner.alone_here(out, [], "ted")
    assert calls == ["student@new.json"]


def test_advice_pairs_the_advised_answers_with_the_student_alone_by_item():
    alone = result([True, True, False, False])
    advised = result([False, True, True, False])
    advised.predictions[3]["prediction"] = None  # wrong either way, and unparsed
    advised.predictions.reverse()  # pairing goes by id, not by position
    summary = advice.compare(alone, advised)
    assert (summary["fixed"], summary["broken"]) == (1, 1)  # q2 fixed, q0 broken
    assert summary["delta"] == 0.0 and summary["low"] <= 0.0 <= summary["high"]
    assert (summary["unparsed_alone"], summary["unparsed_advised"]) == (0, 1)


def test_a_stage_resumed_across_invocations_shows_the_time_of_its_parts(tmp_path):
    folder = tmp_path / "object_counting"
    (folder / "ted" / "run").mkdir(parents=True)
    (folder / "ted.done").write_text(json.dumps({"seconds": 10.0, "machine": "cpu"}))
    result([True]).save(folder / "ted-retrieved.json")  # 10 s of evaluation
    (folder / "ted" / "run" / "result.json").write_text(json.dumps({"seconds": 100.0}))
    (folder / "student.done").write_text(json.dumps({"seconds": 12.0, "machine": "cpu"}))
    result([True]).save(folder / "student.json")  # its own 10 s, inside the 12
    rows = report.stage_table({"object_counting": folder})
    assert "| ted | 110 (the last of several invocations: 10) |" in "\n".join(rows)
    assert "| student | 12 |" in "\n".join(rows)
