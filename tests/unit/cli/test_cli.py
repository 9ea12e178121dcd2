import json

from click.testing import CliRunner

from ted_graph.cli import cli
from ted_graph.library.library import ExperienceLibrary


def test_help_explains_every_command_and_option():
    runner = CliRunner()
    out = runner.invoke(cli, ["--help"]).output
    for command in ("distill", "inspect", "export", "import", "eval", "serve"):
        assert command in out
    help_text = runner.invoke(cli, ["distill", "--help"]).output
    for option in (
        "--library",
        "--student",
        "--teacher",
        "--epochs",
        "--rollouts",
        "--top-k",
        "--chroma-host",
        "--batch-size",
        "--save",
        "--checkpoint",
    ):
        assert option in help_text


def test_inspect_export_import(tmp_path):
    lib = ExperienceLibrary(tmp_path / "lib")
    exp = lib.add("When counting listed objects, count every named item once.")
    lib.record_usage({exp.id: (4, 3, 0)}, step=0)
    runner = CliRunner()
    out = runner.invoke(cli, ["inspect", "-l", str(tmp_path / "lib")])
    assert out.exit_code == 0 and exp.id in out.output and "count every named item" in out.output
    as_json = json.loads(
        runner.invoke(cli, ["inspect", "-l", str(tmp_path / "lib"), "--json"]).output
    )
    assert as_json[0]["retrieved"] == 4
    out = runner.invoke(cli, ["export", str(tmp_path / "x.json"), "-l", str(tmp_path / "lib")])
    assert out.exit_code == 0 and "exported 1" in out.output
    out = runner.invoke(cli, ["import", str(tmp_path / "x.json"), "-l", str(tmp_path / "other")])
    assert out.exit_code == 0 and "imported 1" in out.output
    assert ExperienceLibrary(tmp_path / "other").get(exp.id).helpful == 3


def test_clear_errors_for_bad_input(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["inspect", "-l", str(tmp_path / "missing")])
    assert out.exit_code != 0 and "no library at" in out.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n')
    out = runner.invoke(cli, ["distill", str(bad), "-l", str(tmp_path / "lib")])
    assert out.exit_code != 0 and "bad.jsonl:1: field 'answer' is missing" in out.output
    assert not (tmp_path / "lib").exists()  # nothing created before the data was valid
    out = runner.invoke(cli, ["distill", "bigbench:nope", "-l", str(tmp_path / "lib")])
    assert out.exit_code != 0 and "not a bundled task" in out.output
    out = runner.invoke(cli, ["distill", "bigbench:object_counting", "-n", "0"])
    assert out.exit_code != 0 and "--rollouts" in out.output
    junk = tmp_path / "junk.json"
    junk.write_text("[]")
    out = runner.invoke(cli, ["import", str(junk), "-l", str(tmp_path / "lib2")])
    assert out.exit_code != 0 and "not a ted-graph experience export" in out.output


def test_image_retrieval_options_fail_before_any_model_loads(tmp_path):
    runner = CliRunner()
    lib = str(tmp_path / "lib")
    out = runner.invoke(cli, ["import", __file__, "-l", lib, "--image-retrieval", "image"])
    assert out.exit_code != 0 and "embeds text only" in out.output
    assert not (tmp_path / "lib").exists()  # refused before anything was created
    out = runner.invoke(cli, ["inspect", "-l", lib, "--image-retrieval", "pixels"])
    assert out.exit_code != 0 and "'pixels' is not one of" in out.output


def test_verify_and_group_critique_are_on_by_default_and_can_be_turned_off(monkeypatch, tmp_path):
    import importlib

    cli_module = importlib.import_module("ted_graph.cli.options")
    # by name: the package's attribute `distill` is the function, not the module
    distill_module = importlib.import_module("ted_graph.distillation.run")

    seen = []

    def stop(student, teacher, problems, **settings):
        seen.append((settings["verify"], settings["group_critique"]))
        raise KeyboardInterrupt  # the settings are all this test needs

    monkeypatch.setattr(cli_module, "load_model", lambda spec, batch_size=None: object())
    monkeypatch.setattr(distill_module, "distill", stop)
    runner = CliRunner()
    for extra in ([], ["--no-verify", "--group-critique", "0"]):
        runner.invoke(cli, ["distill", "bigbench:object_counting", "--limit", "2",
                            "-l", str(tmp_path / "lib"), *extra])  # fmt: skip
    assert seen == [(True, 8), (False, 0)]


def test_examples_reach_distill_and_eval(monkeypatch, tmp_path):
    import importlib

    cli_module = importlib.import_module("ted_graph.cli.options")
    distill_module = importlib.import_module("ted_graph.distillation.run")
    evaluate_module = importlib.import_module("ted_graph.distillation.evaluation")
    seen = []

    def stop(*args, **settings):
        seen.append(settings["examples"])
        raise KeyboardInterrupt  # the settings are all this test needs

    monkeypatch.setattr(cli_module, "load_model", lambda spec, batch_size=None: object())
    monkeypatch.setattr(distill_module, "distill", stop)
    monkeypatch.setattr(evaluate_module, "evaluate", stop)
    runner = CliRunner()
    lib = str(tmp_path / "lib")
    for extra in ([], ["--examples", "2"]):
        runner.invoke(cli, ["distill", "bigbench:object_counting", "--limit", "2", "-l", lib,
                            *extra])  # fmt: skip
    ExperienceLibrary(tmp_path / "lib")
    runner.invoke(cli, ["eval", "bigbench:object_counting", "--limit", "2", "-l", lib,
                        "--examples", "1"])  # fmt: skip
    assert seen == [0, 2, 1]


def test_a_valset_reaches_distill_and_is_checked_before_models_load(monkeypatch, tmp_path):
    import importlib

    cli_module = importlib.import_module("ted_graph.cli.options")
    distill_module = importlib.import_module("ted_graph.distillation.run")
    seen, loaded = [], []

    def stop(student, teacher, problems, **settings):
        seen.append([p["id"] for p in settings["valset"]])
        raise KeyboardInterrupt  # the settings are all this test needs

    monkeypatch.setattr(cli_module, "load_model", lambda spec, batch_size=None: loaded.append(spec))
    monkeypatch.setattr(distill_module, "distill", stop)
    rows = [
        {"id": f"p{i}", "question": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(4)
    ]
    train, val = tmp_path / "train.jsonl", tmp_path / "val.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    val.write_text(json.dumps(rows[3]) + "\n")
    runner = CliRunner()
    lib = str(tmp_path / "lib")
    runner.invoke(cli, ["distill", str(train), "-l", lib, "--valset", str(val)])
    assert seen == [["p3"]]
    loaded.clear()
    out = runner.invoke(cli, ["distill", str(train), "-l", lib, "--valset", str(train)])
    assert out.exit_code != 0 and "shares 3 problem(s)" in out.output
    out = runner.invoke(
        cli, ["distill", str(train), "-l", lib, "--valset", str(val), "--validation", "1"]
    )
    assert out.exit_code != 0 and "pass one of them" in out.output
    assert not loaded  # refused before any model loads
