"""Write services of money movement: accounts, disbursements, reports from gateways, auto-debit, settlement."""
