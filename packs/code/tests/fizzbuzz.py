from solution import fizzbuzz


def test_fifteen():
    assert fizzbuzz(15)[-1] == 'FizzBuzz' and fizzbuzz(15)[2] == 'Fizz' and fizzbuzz(15)[4] == 'Buzz'

def test_numbers():
    assert fizzbuzz(2) == ['1', '2']

def test_zero():
    assert fizzbuzz(0) == []
