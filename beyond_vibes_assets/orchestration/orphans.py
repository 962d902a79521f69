"""Runs whose process was killed (SIGKILL, OOM, power loss) are marked failed and free their pool slots.

Without this a killed CLI run stays STARTED forever and keeps its `engine`/`warehouse` pool slot, so the
re-run that should resume would wait for it. Runs launched by the CLI carry their pid and host as tags.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

from .process_identity import alive

PID_TAG = "beyond_vibes/pid"
HOST_TAG = "beyond_vibes/host"


def launch_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def reap_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    reaped = []
    filters = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
                            tags={HOST_TAG: socket.gethostname()})
    for record in instance.get_run_records(filters=filters):
        run = record.dagster_run
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and pid != os.getpid() and not alive(pid, record.start_time, not_after=True):
            instance.report_run_failed(run, message=f"run process {pid} is gone (killed?); completed samples are kept, "
                                                    "re-run to resume")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    return reaped
