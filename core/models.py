"""The business calendar and the close-of-day run table."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class BusinessCalendar(models.Model):
    """The single row holding the open business date.

    Domain code never asks the wall clock what day it is: it is given this
    date, and only the close of day (or an operator, before anything is
    sealed) moves it.
    """

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(_("id"), primary_key=True, default=SINGLETON_ID)
    current_date = models.DateField(_("current date"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="business_calendar_singleton"),
        ]

    def __str__(self):
        return f"Business date {self.current_date.isoformat()}"


class CloseStepRun(models.Model):
    """One step of the close of day for one business date: started, finished, how often tried.

    A finished row makes the runner skip the step on a re-run, which is what
    makes a crashed close safe to run again.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    business_date = models.DateField(_("business date"))
    step = models.CharField(_("step"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("close step run")
        verbose_name_plural = _("close step runs")
        ordering = ["-business_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["business_date", "step"], name="close_step_once_per_date"),
        ]

    def __str__(self):
        return f"{self.business_date.isoformat()} {self.step} ({self.status})"
