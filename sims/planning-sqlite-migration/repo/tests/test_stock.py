import pytest
from inventory.stock import add_item, adjust_quantity, low_stock


def test_add_adjust_low(tmp_path):
    db = str(tmp_path / "s.json")
    add_item("A1", "bolt", 5, path=db)
    add_item("B2", "nut", 50, path=db)
    assert adjust_quantity("A1", -2, path=db) == 3
    assert low_stock(10, path=db) == ["A1"]
    with pytest.raises(ValueError):
        adjust_quantity("A1", -9, path=db)
