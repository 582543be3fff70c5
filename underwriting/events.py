"""What happens to applications, announced after the transaction that did it commits.

Apps above underwriting (the partner API's webhooks) subscribe; underwriting
imports none of them. Sent the way lending's events are (ids in bulk, after commit).
"""

from django.dispatch import Signal

applications_decided = Signal()  # application_ids: applications that reached approved or declined
