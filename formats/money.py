"""Money, one way everywhere: amounts to the cent, $1,234.56; prices per hour (or per GB-month) to the digits
below a cent that matter, at most 4 decimals ($0.0125, $0.035, $2.21). Pure: no Django, no I/O."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
RATE_STEP = Decimal("0.0001")


def _decimal(value):
    try:
        return Decimal(str(value if value is not None and value != "" else 0))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _dollars(amount, places):
    return f"{'−' if amount < 0 else ''}${abs(amount):,.{places}f}"


def money(value):
    """$1,234.56; above zero but under a cent: <$0.01; not a number: ''."""
    amount = _decimal(value)
    if amount is None:
        return ""
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return "<$0.01" if amount > 0 and not cents else _dollars(cents, 2)


def money_rate(value):
    """A price per hour (or per GB-month): two decimals, more only when they matter; under $0.0001: <$0.0001."""
    amount = _decimal(value)
    if amount is None:
        return ""
    if amount > 0 and not amount.quantize(RATE_STEP, rounding=ROUND_HALF_UP):
        return "<$0.0001"
    amount = amount.quantize(RATE_STEP, rounding=ROUND_HALF_UP)
    places = 4
    while places > 2 and amount == amount.quantize(Decimal(1).scaleb(1 - places)):
        places -= 1
    return _dollars(amount, places)
