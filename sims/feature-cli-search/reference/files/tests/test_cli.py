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


def test_search_is_case_insensitive(tmp_path, capsys):
    db = str(tmp_path / "n.json")
    main(["--db", db, "add", "Buy milk"])
    main(["--db", db, "add", "Call Alice"])
    capsys.readouterr()
    assert main(["--db", db, "search", "MILK"]) == 0
    assert capsys.readouterr().out.splitlines() == ["#1 Buy milk"]


def test_search_without_match_prints_nothing(tmp_path, capsys):
    db = str(tmp_path / "n.json")
    main(["--db", db, "add", "Buy milk"])
    capsys.readouterr()
    assert main(["--db", db, "search", "bread"]) == 0
    assert capsys.readouterr().out == ""
