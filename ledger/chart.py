"""The chart of accounts: codes the services post to, seeded by a data migration.

Codes are stable identifiers used in code and in entry hashes; names are for people.
"""

ASSET = "asset"
LIABILITY = "liability"
INCOME = "income"
EXPENSE = "expense"

CASH = "cash"
PRINCIPAL_RECEIVABLE = "principal_receivable"
INTEREST_RECEIVABLE = "interest_receivable"
PENALTY_RECEIVABLE = "penalty_receivable"
FEE_RECEIVABLE = "fee_receivable"
INSURANCE_CLAIM_RECEIVABLE = "insurance_claim_receivable"
PREMIUM_PAYABLE = "premium_payable"
INTEREST_INCOME = "interest_income"
FEE_INCOME = "fee_income"
PENALTY_INCOME = "penalty_income"
WRITE_OFF_EXPENSE = "write_off_expense"
RESIDUE_WRITE_OFF_EXPENSE = "residue_write_off_expense"
RECOVERIES = "recoveries"
COMPENSATED_LOANS = "compensated_loans"
SUBROGATION_PAYABLE = "subrogation_payable"
FUNDER_LOSS_BANK = "funder_loss_bank"
FUNDER_LOSS_PLATFORM = "funder_loss_platform"
LOSSES_SHARED = "losses_shared"
SUSPENSE = "suspense"

ACCOUNTS = [
    (CASH, "Cash and settlement", ASSET),
    (PRINCIPAL_RECEIVABLE, "Loan principal receivable", ASSET),
    (INTEREST_RECEIVABLE, "Interest receivable", ASSET),
    (PENALTY_RECEIVABLE, "Penalty interest receivable", ASSET),
    (FEE_RECEIVABLE, "Fees and premiums receivable", ASSET),
    (INSURANCE_CLAIM_RECEIVABLE, "Insurance claims receivable", ASSET),
    (PREMIUM_PAYABLE, "Premiums payable to insurers", LIABILITY),
    # Contra to the loan receivables: the part an insurer compensated, whose recoveries are the insurer's.
    (COMPENSATED_LOANS, "Loans compensated by insurers (subrogated)", ASSET),
    (SUBROGATION_PAYABLE, "Recoveries owed to insurers", LIABILITY),
    (SUSPENSE, "Suspense (unidentified receipts)", LIABILITY),
    (INTEREST_INCOME, "Interest income", INCOME),
    (FEE_INCOME, "Fee income", INCOME),
    (PENALTY_INCOME, "Penalty interest income", INCOME),
    (RECOVERIES, "Recoveries after write-off", INCOME),
    (WRITE_OFF_EXPENSE, "Credit losses written off", EXPENSE),
    (RESIDUE_WRITE_OFF_EXPENSE, "Small residues written off", EXPENSE),
    (FUNDER_LOSS_BANK, "Credit losses borne by bank funders", EXPENSE),
    (FUNDER_LOSS_PLATFORM, "Credit losses borne by the platform", EXPENSE),
    # Contra to write-offs: the gross loss stays on write_off_expense; this carries the part moved to its bearers.
    (LOSSES_SHARED, "Credit losses moved to insurers and funders", EXPENSE),
]
