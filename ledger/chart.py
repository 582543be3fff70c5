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
SUSPENSE = "suspense"

ACCOUNTS = [
    (CASH, "Cash and settlement", ASSET),
    (PRINCIPAL_RECEIVABLE, "Loan principal receivable", ASSET),
    (INTEREST_RECEIVABLE, "Interest receivable", ASSET),
    (PENALTY_RECEIVABLE, "Penalty interest receivable", ASSET),
    (FEE_RECEIVABLE, "Fees and premiums receivable", ASSET),
    (INSURANCE_CLAIM_RECEIVABLE, "Insurance claims receivable", ASSET),
    (PREMIUM_PAYABLE, "Premiums payable to insurers", LIABILITY),
    (SUSPENSE, "Suspense (unidentified receipts)", LIABILITY),
    (INTEREST_INCOME, "Interest income", INCOME),
    (FEE_INCOME, "Fee income", INCOME),
    (PENALTY_INCOME, "Penalty interest income", INCOME),
    (RECOVERIES, "Recoveries after write-off", INCOME),
    (WRITE_OFF_EXPENSE, "Credit losses written off", EXPENSE),
    (RESIDUE_WRITE_OFF_EXPENSE, "Small residues written off", EXPENSE),
]
