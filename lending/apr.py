"""All-in APR (年化利率): the internal rate of return of what a borrower receives and pays.

The periodic rate is the IRR of the cash flows; the nominal APR is that rate
times the periods per year (the usual IRR method for disclosing an annualised
rate, and the figure the product's 24 % nominal cap applies to); the effective
rate compounds it. Pure Decimal arithmetic, no Django.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate

from core.money import ZERO, as_decimal, round_rate
from lending.schedules import ScheduleLine

MONTHS_PER_YEAR = 12

# The rate is reported to 8 places, so 1e-12 leaves ample margin for the rounding.
_TOLERANCE = Decimal("1e-12")
# Newton needs about three evaluations for consumer loans; the cap only bites on
# extreme flows (e.g. a huge balloon far out), where bisection finishes the job.
_NEWTON_MAX_ITERATIONS = 50
_BISECTION_MAX_ITERATIONS = 200
_ONE = Decimal(1)


@dataclass(frozen=True)
class AprResult:
    periodic_rate: Decimal
    nominal_annual_rate: Decimal
    effective_annual_rate: Decimal
    periods_per_year: int


def apr_from_cash_flows(*, flows: Sequence[Decimal], periods_per_year: int = MONTHS_PER_YEAR) -> AprResult:
    """The APR of borrowing flows[0] now and paying flows[k] at the end of period k.

    All flows are positive amounts (flows[0] net of any upfront fee). The
    periodic rate r solves flows[0] = Σ flows[k] / (1 + r)^k.
    """
    if len(flows) < 2:
        raise ValueError("flows needs the amount received and at least one payment")
    received, *payments = (as_decimal(flow) for flow in flows)
    return _apr(received=received, payments=payments, periods_per_year=periods_per_year)


def apr_for_schedule(*, principal: Decimal, lines: Sequence[ScheduleLine], upfront_fee: Decimal = ZERO) -> AprResult:
    """The all-in APR of a schedule: interest, premium and upfront fee all count.

    Each installment counts as one month whatever its actual days, as the IRR
    method does; the borrower receives `principal - upfront_fee`.
    """
    principal = as_decimal(principal)
    upfront_fee = as_decimal(upfront_fee)
    if not ZERO <= upfront_fee < principal:
        raise ValueError(f"upfront_fee must be at least 0 and below the principal {principal}, got {upfront_fee}")
    if not lines:
        raise ValueError("lines must not be empty")
    # Line amounts are Decimals made by the schedule module, so they skip as_decimal.
    return _apr(
        received=principal - upfront_fee,
        payments=[line.total for line in lines],
        periods_per_year=MONTHS_PER_YEAR,
    )


def _apr(*, received: Decimal, payments: Sequence[Decimal], periods_per_year: int) -> AprResult:
    _check_flows(received=received, payments=payments)
    if periods_per_year < 1:
        raise ValueError(f"periods_per_year must be at least 1, got {periods_per_year}")
    rate = _irr(received=received, payments=payments)
    return AprResult(
        periodic_rate=round_rate(rate),
        nominal_annual_rate=round_rate(rate * periods_per_year),
        effective_annual_rate=round_rate((_ONE + rate) ** periods_per_year - _ONE),
        periods_per_year=periods_per_year,
    )


def _check_flows(*, received: Decimal, payments: Sequence[Decimal]) -> None:
    if received <= 0:
        raise ValueError(f"flows[0], the amount received, must be positive, got {received}")
    if min(payments) < 0:
        raise ValueError("flows after the first are payments and must not be negative")
    paid = sum(payments, ZERO)
    if paid < received:
        # Paying back less than was received means a negative rate: not a loan
        # price anyone should quote, and most likely a caller's mistake.
        raise ValueError(
            f"flows: total paid {paid} is below the amount received {received}, so the APR would be negative"
        )


def _irr(*, received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    # f(r) = Σ p_k (1+r)^-k − received is decreasing and convex for r > −1 and
    # f(0) ≥ 0, so Newton from r = 0 climbs towards the root without overshooting
    # it: no bracket is needed on the fast path. Near the root the error left
    # after a step is at most f''/(2|f'|) × step² <= (n+1)/2 × step² for n
    # payments, so a step with (n+1) × step² below the tolerance is the last one
    # needed: that saves the confirming iteration plain Newton would spend.
    rate = _first_newton_step(received=received, payments=payments)
    enough = _TOLERANCE / (len(payments) + 1)
    for _ in range(_NEWTON_MAX_ITERATIONS):
        value, slope = _excess_and_slope(rate=rate, received=received, payments=payments)
        step = value / slope
        rate -= step
        if step * step < enough:
            return rate
    return _bisect(lower=rate, received=received, payments=payments)


def _first_newton_step(*, received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    """Newton's step from r = 0, (paid − received) / Σ k·p_k, without a full evaluation.

    Σ k·p_k is the sum of the payments' tail sums, so additions alone give it.
    """
    tail_sums = list(accumulate(reversed(payments)))
    return (tail_sums[-1] - received) / sum(tail_sums, ZERO)


def _excess_and_slope(*, rate: Decimal, received: Decimal, payments: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """f(rate), the present value paid minus received, and its derivative f'(rate).

    With v = 1/(1+rate), the present value is v·Q(v) for the polynomial
    Q(v) = Σ p_k v^(k-1); Horner's scheme gives Q and Q' in one pass with
    four Decimal operations a payment, which is what keeps quoting fast.
    """
    discount = _ONE / (_ONE + rate)
    value = ZERO
    derivative = ZERO
    for payment in reversed(payments):
        derivative = derivative * discount + value
        value = value * discount + payment
    # d/dr [v·Q(v)] = (Q + v·Q') · dv/dr, and dv/dr = -v².
    slope = -(value + discount * derivative) * discount * discount
    return discount * value - received, slope


def _bisect(*, lower: Decimal, received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    # `lower` is a Newton iterate, so it sits at or below the root. Since
    # (1+r)^-k <= 1/(1+r), f(paid/received) <= paid/(1 + paid/received) - received < 0,
    # so paid/received bounds the root from above.
    upper = sum(payments, ZERO) / received
    for _ in range(_BISECTION_MAX_ITERATIONS):
        if upper - lower < _TOLERANCE:
            break
        middle = (lower + upper) / 2
        if _excess(rate=middle, received=received, payments=payments) < 0:
            upper = middle
        else:
            lower = middle
    return (lower + upper) / 2


def _excess(*, rate: Decimal, received: Decimal, payments: Sequence[Decimal]) -> Decimal:
    return _excess_and_slope(rate=rate, received=received, payments=payments)[0]
