"""`beyond-vibes`, the command line: one module per group of commands; main.py holds the parser."""

from .main import main

__all__ = ["main"]
