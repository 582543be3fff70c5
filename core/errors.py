"""The project's one error type for broken business rules.

Services raise `DomainError` with a stable `code` (for API clients and
tests) and a readable `message`; `field` names the input at fault when
there is one. The API, the admin and management commands each translate it
in one place.
"""


class DomainError(Exception):
    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}
