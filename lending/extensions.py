"""Extension points for apps above lending (insurance): lending calls them, never imports those apps.

- A premium-rate provider prices a drawdown's monthly premium (on opening
  principal, collected in each installment's fee component and counted in
  the all-in APR the cap applies to).
- Disbursement listeners run inside the disbursing transaction, so what they
  write (an insurance enrolment) commits or fails with the loan.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from core.money import ZERO

PremiumRateProvider = Callable[..., Decimal]
DisbursementListener = Callable[..., None]

_premium_rate_providers: list[PremiumRateProvider] = []
_disbursement_listeners: list[DisbursementListener] = []


def premium_rate_provider(function: PremiumRateProvider) -> PremiumRateProvider:
    """Register `function(*, credit_line, on_date) -> Decimal`, the monthly premium rate for a drawdown."""
    if function not in _premium_rate_providers:
        _premium_rate_providers.append(function)
    return function


def disbursement_listener(function: DisbursementListener) -> DisbursementListener:
    """Register `function(*, loan, today)`, called after a loan is paid out, in the same transaction."""
    if function not in _disbursement_listeners:
        _disbursement_listeners.append(function)
    return function


def premium_rate_for(*, credit_line, on_date: date) -> Decimal:
    return sum((provider(credit_line=credit_line, on_date=on_date) for provider in _premium_rate_providers), ZERO)


def loan_disbursed(*, loan, today: date) -> None:
    for listener in _disbursement_listeners:
        listener(loan=loan, today=today)
