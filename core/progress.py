"""How long-running work reports progress without knowing who is watching."""

from datetime import date
from typing import Protocol


class Progress(Protocol):
    def step_started(self, business_date: date, step: str) -> None: ...

    def step_finished(self, business_date: date, step: str, *, skipped: bool, detail: dict) -> None: ...

    def chunk_done(self, step: str, done: int, total: int) -> None: ...

    def day_finished(self, closed_date: date, open_date: date) -> None: ...


class SilentProgress:
    def step_started(self, business_date: date, step: str) -> None:
        pass

    def step_finished(self, business_date: date, step: str, *, skipped: bool, detail: dict) -> None:
        pass

    def chunk_done(self, step: str, done: int, total: int) -> None:
        pass

    def day_finished(self, closed_date: date, open_date: date) -> None:
        pass
