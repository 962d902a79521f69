"""A tiny notes keeper: `python -m notes --db notes.json add TEXT`, `list`."""
