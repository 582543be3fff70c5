"""Print the portfolio figures (open loans, outstanding by DPD bucket, 30+/90+ DPD and NPL) as of a closed day."""

from datetime import timedelta

from django.core.management.base import CommandError

from core.business_date import business_date_current
from core.management.base import DomainCommand, parse_date
from lending.selectors import PortfolioFigures, portfolio_figures, portfolio_report_sections


def _percent(rate) -> str:
    return f"{rate * 100:.2f} %"


def render(figures: PortfolioFigures) -> str:
    lines = [
        f"Portfolio as of the close of {figures.as_of}",
        "",
        f"{'bucket':<8}{'loans':>8}{'outstanding':>20}{'share':>10}",
    ]
    for row in figures.buckets:
        lines.append(f"{row.bucket:<8}{row.loans:>8}{row.outstanding:>20,}{_percent(row.share):>10}")
    lines += [
        f"{'total':<8}{figures.open_loans:>8}{figures.outstanding:>20,}",
        "",
        f"30+ DPD rate: {_percent(figures.dpd30_rate)}",
        f"90+ DPD rate: {_percent(figures.dpd90_rate)}",
        f"NPL ratio:    {_percent(figures.npl_ratio)}",
    ]
    return "\n".join(lines)


class Command(DomainCommand):
    help = "Portfolio figures as of the end of a closed business date (default: the last closed day)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--date", type=parse_date, help="a closed business date, YYYY-MM-DD (default: the last)")

    def handle(self, *args, **options):
        last_closed = business_date_current() - timedelta(days=1)
        as_of = options["date"] or last_closed
        if as_of > last_closed:
            raise CommandError(
                f"--date {as_of} has not been closed yet; the last closed business date is {last_closed}"
            )
        figures = portfolio_figures(as_of=as_of)
        result, text = figures.as_dict(), render(figures)
        for name, section in portfolio_report_sections().items():
            result[name], section_text = section(as_of)
            text += "\n\n" + section_text
        self.emit(options, result, text)
