import sys

from .counter import count_text


def main(argv=None) -> int:
    for path in (argv if argv is not None else sys.argv[1:]):
        with open(path, encoding="utf-8") as fh:
            c = count_text(fh.read())
        print(f"{c.lines:>7} {c.words:>7} {c.chars:>7} {path}")
    return 0
