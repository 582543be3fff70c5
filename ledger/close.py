"""The ledger's close-of-day step: seal the day, in the transaction that moves the date."""

from datetime import date

from core.close import close_step
from ledger.services import day_seal


@close_step("ledger.seal_day", order=10_000, final=True)
def seal_day(*, business_date: date, progress) -> dict:
    seal = day_seal(business_date=business_date)
    return {"entries": seal.entry_count, "digest": seal.digest}
