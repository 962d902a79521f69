from greeter.config import load_config
from greeter.greet import greeting


def test_default():
    assert greeting(load_config(None, {})) == "Hello, world!"


def test_file_then_env(tmp_path):
    ini = tmp_path / "g.ini"
    ini.write_text("[greeter]\nname = bob\n")
    assert greeting(load_config(str(ini), {})) == "Hello, bob!"
    assert greeting(load_config(str(ini), {"GREETER_NAME": "ada"})) == "Hello, ada!"


def test_shout_from_file_and_env(tmp_path):
    ini = tmp_path / "g.ini"
    ini.write_text("[greeter]\nname = bob\nshout = true\n")
    assert greeting(load_config(str(ini), {})) == "HELLO, BOB!"
    assert greeting(load_config(str(ini), {"GREETER_SHOUT": "0"})) == "Hello, bob!"
    assert greeting(load_config(None, {"GREETER_SHOUT": "1", "GREETER_NAME": "ada"})) == "HELLO, ADA!"
