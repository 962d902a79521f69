"""Stock operations; every call reads and rewrites the whole file."""

from .storage import load_items, save_items


def add_item(sku: str, name: str, quantity: int = 0, path: str = "stock.json") -> None:
    items = load_items(path)
    if sku in items:
        raise ValueError(f"{sku} exists")
    items[sku] = {"name": name, "quantity": quantity}
    save_items(items, path)


def adjust_quantity(sku: str, delta: int, path: str = "stock.json") -> int:
    items = load_items(path)
    new = items[sku]["quantity"] + delta
    if new < 0:
        raise ValueError("stock cannot go below zero")
    items[sku]["quantity"] = new
    save_items(items, path)
    return new


def low_stock(threshold: int, path: str = "stock.json") -> list[str]:
    return sorted(sku for sku, item in load_items(path).items() if item["quantity"] < threshold)
