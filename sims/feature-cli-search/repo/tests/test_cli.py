from notes.cli import main


def test_add_then_list(tmp_path, capsys):
    db = str(tmp_path / "n.json")
    assert main(["--db", db, "add", "Buy milk"]) == 0
    assert main(["--db", db, "add", "Call Alice"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["#1 Buy milk", "#2 Call Alice"]


def test_list_empty(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "none.json"), "list"]) == 0
    assert capsys.readouterr().out == ""
