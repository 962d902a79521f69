def greeting(config: dict) -> str:
    return f"Hello, {config['name']}!"
