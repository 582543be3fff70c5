"""Staff roles as groups: what each role may see and do, and the one function that keeps the groups in line.

A role is a group whose permissions are computed from this table: "view
every model of these apps" plus named permissions (model changes that run
transitions and work-screen forms, and the custom ones: reveal_pii,
approve_second). Computing rather than listing means a model added later is
covered once `roles_sync` runs again, which post_migrate does after every
migrate (and `manage.py sync_roles` on demand). The groups are owned by this
table: a permission added to one by hand is removed at the next sync.
"""

from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _

from debt_collection.services import COLLECTORS_GROUP

# The project's own apps; "auth" is added for the auditor and administrator only.
BOOK_APPS = ("core", "ledger", "lending", "underwriting", "collections", "insurance", "partners", "payments")
DOMAIN_APPS = (*BOOK_APPS, "workspace", "dashboard")

LENDING_READ = ("lending.view_partner", "lending.view_product", "lending.view_borrower", "lending.view_creditline")
LOAN_READ = (
    "lending.view_loan",
    "lending.view_installment",
    "lending.view_repayment",
    "lending.view_repaymentallocation",
    "lending.view_repaymentreversal",
    "lending.view_loanbucketchange",
    "lending.view_loanrestructure",
)
UNDERWRITER = (
    *LENDING_READ,
    "underwriting.view_application",
    "underwriting.view_applicationreview",
    "underwriting.view_rulesettings",
    "underwriting.view_modelversion",
    "underwriting.view_limitreview",
    "underwriting.view_drawdownalert",
    # add_applicationreview is the right to review; change_application the right to withdraw one.
    "underwriting.add_applicationreview",
    "underwriting.change_application",
)
COLLECTOR = (
    *LENDING_READ,
    *LOAN_READ,
    "collections.view_collectioncase",
    # The workbench: log attempts and promises, escalate, reassign.
    "collections.change_collectioncase",
    "collections.view_caseassignment",
    "collections.view_contactattempt",
    "collections.view_promisetopay",
    "collections.view_hardshiprecord",
    "collections.view_escalation",
    "collections.view_recovery",
    "collections.view_collectorprofile",
    "insurance.view_coverage",
    "insurance.view_insuranceclaim",
)


@dataclass(frozen=True)
class Role:
    group: str
    title: str
    summary: str
    view_apps: tuple[str, ...] = ()
    perms: tuple[str, ...] = field(default=())
    everything: bool = False


ROLES = (
    Role(
        "risk analysts",
        _("Risk analyst"),
        _("Sees the whole book read-only; tunes rule settings, activates models, freezes lines, clears alerts."),
        view_apps=(*BOOK_APPS, "dashboard"),
        perms=(
            "lending.change_creditline",
            "underwriting.change_rulesettings",
            "underwriting.change_modelversion",
            "underwriting.change_drawdownalert",
            "underwriting.add_blocklistentry",
            "underwriting.view_blocklistentry",
        ),
    ),
    Role(
        "underwriters",
        _("Underwriter"),
        _("Works the manual review queue: approves or declines with notes (first approval above four eyes)."),
        perms=UNDERWRITER,
    ),
    Role(
        "senior underwriters",
        _("Senior underwriter"),
        _("An underwriter who may also give the second, four-eyes approval and manage the block list."),
        perms=(
            *UNDERWRITER,
            "underwriting.approve_second",
            "underwriting.view_blocklistentry",
            "underwriting.add_blocklistentry",
            "underwriting.change_drawdownalert",
        ),
    ),
    Role(
        COLLECTORS_GROUP,
        _("Collector"),
        _("Works the collections queue: the case page, contact log, promises, escalation."),
        perms=COLLECTOR,
    ),
    Role(
        "collections managers",
        _("Collections manager"),
        _("Everything a collector sees and does, plus all of collections and collector capacities."),
        view_apps=("collections", "dashboard"),
        perms=(*COLLECTOR, "collections.add_collectorprofile", "collections.change_collectorprofile"),
    ),
    Role(
        "claims officers",
        _("Claims officer"),
        _("Reviews insurance claims (approve, reject, request documents, record payout); sees cover and loans."),
        view_apps=("insurance",),
        perms=(*LENDING_READ, *LOAN_READ, "insurance.change_insuranceclaim", "collections.view_collectioncase"),
    ),
    Role(
        "finance",
        _("Finance"),
        _(
            "Sees the ledger, loans, insurance and money movement; reverses repayments, disburses or cancels loans, "
            "re-instructs disbursements, resolves settlement breaks, keeps insurers, policies and funders."
        ),
        view_apps=("core", "ledger", "lending", "insurance", "payments", "dashboard"),
        perms=(
            "payments.change_disbursement",
            "payments.change_settlementbreak",
            "lending.change_repayment",
            "lending.change_loan",
            "insurance.add_insurer",
            "insurance.change_insurer",
            "insurance.add_policy",
            "insurance.change_policy",
            "insurance.add_funder",
            "insurance.change_funder",
            "partners.view_webhookevent",
            "partners.view_webhookattempt",
        ),
    ),
    Role(
        "auditors",
        _("Auditor"),
        _("Reads everything, history and the personal data reveal log included; changes nothing."),
        view_apps=(*DOMAIN_APPS, "auth"),
    ),
    Role(
        "administrators",
        _("Administrator"),
        _("Every permission, staff accounts and reveal of personal data included."),
        everything=True,
    ),
)


def role_permissions(role: Role, *, apps=global_apps) -> tuple[set[int], list[str]]:
    """The permission ids `role` should hold, and the named permissions that do not exist."""
    permission_model = apps.get_model("auth", "Permission")
    if role.everything:
        return set(permission_model.objects.values_list("pk", flat=True)), []
    ids = set(
        permission_model.objects.filter(
            content_type__app_label__in=role.view_apps, codename__startswith="view_"
        ).values_list("pk", flat=True)
    )
    missing = []
    for name in role.perms:
        app_label, codename = name.split(".")
        found = permission_model.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if found is None:
            missing.append(name)
        else:
            ids.add(found.pk)
    return ids, missing


def roles_sync(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Create every model's permissions, then give each role's group exactly its permissions.

    Returns the named permissions that were not found, per group (an empty dict when the table is sound).
    """
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    group_model = apps.get_model("auth", "Group")
    problems = {}
    for role in ROLES:
        group, _created = group_model.objects.using(using).get_or_create(name=role.group)
        ids, missing = role_permissions(role, apps=apps)
        group.permissions.set(ids)
        if missing:
            problems[role.group] = missing
    return problems


def roles_sync_after_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs):
    # post_migrate fires once per installed app, in order; by the last one every app's permissions can be made.
    if app_config is None or app_config.label != list(global_apps.get_app_configs())[-1].label:
        return
    if not apps.is_installed("workspace") or not apps.is_installed("auth"):
        return
    roles_sync(apps=apps, using=using)
