"""How the nightly trim removes job records (``LogKind.trim`` of the jobs kind; ``authmon.trim`` runs it).

A run of authmon that has not finished is still being worked on, so no trim removes it, whatever its age. Only
authmon's own runs (with a server-side ``JobRun``) count: an ingested record saying "running" is data, and must not
keep itself, or its whole month partition, past retention for ever.
"""

from __future__ import annotations

from django.db.models import Q

from authmon.trim import TrimPolicy
from jobs.models import JobRun


class JobTrimPolicy(TrimPolicy):
    keep_reason = "pending or running jobs"

    def keep(self) -> Q:
        return Q(latest_status__in=["pending", "running"], pk__in=JobRun.objects.values("job_pk"))

    def keep_sql(self) -> str:
        # the same rule over a partition (``partitions.partition_drop``); a constant, never user input
        return "latest_status IN ('pending', 'running') AND EXISTS (SELECT 1 FROM jobs_jobrun k WHERE k.job_pk = r.id)"
