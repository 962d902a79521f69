"""Greets people; configured by an INI file and GREETER_* environment variables (the environment wins)."""
