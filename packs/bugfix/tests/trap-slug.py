from slugs import slugify


def test_basic():
    assert slugify('Hello, World!') == 'hello-world'

def test_digits_spaces():
    assert slugify('  Top 10   Tips ') == 'top-10-tips'
