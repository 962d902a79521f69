import argparse

from .store import NoteStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="notes")
    parser.add_argument("--db", default="notes.json", help="the JSON file holding the notes")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a note")
    add.add_argument("text")
    sub.add_parser("list", help="list every note")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    store = NoteStore(args.db)
    if args.command == "add":
        note = store.add(args.text)
        print(f"added #{note['id']}")
    elif args.command == "list":
        for note in store.load_all():
            print(f"#{note['id']} {note['text']}")
    return 0
