from tally import count_text
from tally.cli import main


def test_counts():
    c = count_text("one two\nthree\n")
    assert (c.lines, c.words, c.chars) == (2, 3, 14)


def test_empty():
    assert count_text("").words == 0


def test_cli(tmp_path, capsys):
    f = tmp_path / "a.txt"
    f.write_text("a b c\n")
    assert main([str(f)]) == 0
    assert "3" in capsys.readouterr().out
