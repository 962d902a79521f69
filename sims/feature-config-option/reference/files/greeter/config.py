"""Configuration: defaults, then the [greeter] section of an INI file, then GREETER_* environment variables."""

import configparser
from collections.abc import Mapping

DEFAULTS = {"name": "world", "shout": False}
TRUE = {"1", "true", "yes", "on"}


def load_config(path: str | None, env: Mapping[str, str]) -> dict:
    config = dict(DEFAULTS)
    if path:
        parser = configparser.ConfigParser()
        parser.read(path, encoding="utf-8")
        if parser.has_section("greeter"):
            config["name"] = parser.get("greeter", "name", fallback=config["name"])
            config["shout"] = parser.getboolean("greeter", "shout", fallback=config["shout"])
    if env.get("GREETER_NAME"):
        config["name"] = env["GREETER_NAME"]
    if env.get("GREETER_SHOUT"):
        config["shout"] = env["GREETER_SHOUT"].strip().lower() in TRUE
    return config
