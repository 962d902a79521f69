def greeting(config: dict) -> str:
    text = f"Hello, {config['name']}!"
    return text.upper() if config.get("shout") else text
