"""A year of realistic Prefect history, written through Prefect's own database layer.

The upgrade scenarios copy this file into a test host and run it with the host's
Prefect virtualenv python, as the server's user and with the server's environment
(PREFECT_HOME, PREFECT_PROFILES_PATH and, for PostgreSQL,
PREFECT_SERVER_DATABASE_CONNECTION_URL), on a database the old Prefect has migrated:

    python history.py fill --flow-runs 20000 --task-runs-per-flow-run 1
    python history.py count

`fill` creates (or reuses) a process work pool, a few flows with one deployment
each, variables, a Secret block and an automation through `prefect.server.models`,
then bulk-inserts finished flow runs, their task runs, Pending/Running/Completed
(1 in 20 Failed) states and two log lines per flow run into the ORM tables of
`provide_database_interface()`, one transaction per batch. The runs are spread over
the past --days (365): with the role's retention (Prefect's database vacuum) shorter
than that, the server deletes the older ones. Each run's state_id, state_type,
state_name, state_timestamp, start_time, end_time and total_run_time match its last
state, as Prefect's orchestration would have left them. It prints JSON: what it
created, a few flow run ids to read back through the API, and the seconds taken.

`count` prints JSON: the rows of each table the upgrade must keep, the Alembic
revision and the seconds taken. The tests count before the upgrade and after it and
compare. Standard library and the Prefect of the running interpreter only; works
with the database layer of Prefect 3.7.8, 3.8.8 and 3.9.1 on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from prefect import __version__ as prefect_version
from prefect.blocks.system import Secret
from prefect.server import models, schemas
from prefect.server.database import PrefectDBInterface, provide_database_interface
from prefect.server.events.actions import DoNothing
from prefect.server.events.models.automations import create_automation
from prefect.server.events.schemas.automations import Automation, EventTrigger, Posture
from prefect.server.models.block_registration import register_block_schema, register_block_type
from prefect.server.schemas.states import StateType
from prefect.utilities.names import generate_slug
from sqlalchemy.ext.asyncio import AsyncSession

POOL = "history-pool"
WORKER = "history-worker"
FLOWS = {"etl-orders": "hourly", "etl-customers": "nightly", "report-sales": "weekly"}
TASKS = ("extract", "transform", "load")
VARIABLES: dict[str, str | int | bool] = {
    "history_region": "eu-west",
    "history_batch_size": 500,
    "history_enabled": True,
}
BLOCK = "history-secret"
AUTOMATION = "history-failed-runs"
COUNTED = (
    "Flow",
    "FlowRun",
    "TaskRun",
    "FlowRunState",
    "TaskRunState",
    "Deployment",
    "WorkPool",
    "WorkQueue",
    "Variable",
    "BlockDocument",
    "Automation",
    "Log",
)

Row = dict[str, Any]


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


async def setup(db: PrefectDBInterface, session: AsyncSession) -> list[Row]:
    """The pool, flows, deployments, variables, block and automation, reused when present;
    returns what each generated flow run belongs to."""
    pool = await models.workers.read_work_pool_by_name(session, work_pool_name=POOL)
    if pool is None:
        pool = await models.workers.create_work_pool(
            session, work_pool=schemas.actions.WorkPoolCreate(name=POOL, type="process")
        )
    targets: list[Row] = []
    for flow_name, deployment_name in FLOWS.items():
        flow = await models.flows.create_flow(session, flow=schemas.core.Flow(name=flow_name))
        deployment = await models.deployments.read_deployment_by_name(
            session, name=deployment_name, flow_name=flow_name
        )
        if deployment is None:
            deployment = await models.deployments.create_deployment(
                session,
                deployment=schemas.core.Deployment(
                    name=deployment_name,
                    flow_id=flow.id,
                    work_queue_id=pool.default_queue_id,
                    work_queue_name="default",
                    entrypoint=f"flows/{flow_name}.py:{flow_name.replace('-', '_')}",
                    path="/opt/flows",
                    tags=["history"],
                ),
            )
        assert deployment is not None
        labels = await models.flow_runs.with_system_labels_for_flow_run(
            session, flow_run=schemas.core.FlowRun(flow_id=flow.id, deployment_id=deployment.id)
        )
        # The labels a process worker gives the runs it submits
        # (prefect.workers.base.BaseWorker._give_worker_labels_to_flow_run).
        labels |= {
            "prefect.worker.name": WORKER,
            "prefect.worker.type": "process",
            "prefect.work-pool.name": POOL,
            "prefect.work-pool.id": str(pool.id),
        }
        targets.append(
            {
                "flow": flow_name,
                "flow_id": flow.id,
                "deployment_id": deployment.id,
                "work_queue_id": pool.default_queue_id,
                "labels": labels,
            }
        )
    for name, value in VARIABLES.items():
        if await models.variables.read_variable_by_name(session, name=name) is None:
            await models.variables.create_variable(
                session, variable=schemas.actions.VariableCreate(name=name, value=value)
            )
    block_type_id = await register_block_type(session, Secret._to_block_type())
    block_schema_id = await register_block_schema(
        session, Secret._to_block_schema(block_type_id=block_type_id)
    )
    if not await models.block_documents.read_block_document_by_name(
        session, name=BLOCK, block_type_slug="secret"
    ):
        await models.block_documents.create_block_document(
            session,
            block_document=schemas.actions.BlockDocumentCreate(
                name=BLOCK,
                data={"value": "not-a-real-secret"},
                block_type_id=block_type_id,
                block_schema_id=block_schema_id,
            ),
        )
    automations = sa.select(db.Automation.id).where(db.Automation.name == AUTOMATION)
    if (await session.execute(automations)).first() is None:
        await create_automation(
            session,
            automation=Automation(
                name=AUTOMATION,
                trigger=EventTrigger(
                    expect={"prefect.flow-run.Failed"},
                    posture=Posture.Reactive,
                    threshold=1,
                    within=timedelta(0),
                ),
                actions=[DoNothing()],
            ),
        )
    return targets


def states(
    run_key: str, run_id: uuid.UUID, details: Row, times: list[datetime], final: StateType
) -> list[Row]:
    """Pending, Running and a final state at the given times, as rows of a state table."""
    kinds = [StateType.PENDING, StateType.RUNNING, final]
    return [
        {
            "id": uuid.uuid4(),
            run_key: run_id,
            "type": kind,
            "name": kind.value.title(),
            "timestamp": at,
            "created": at,
            "updated": at,
            "state_details": details,
            "message": "Run failed: ValueError('history')" if kind is StateType.FAILED else None,
        }
        for kind, at in zip(kinds, times, strict=True)
    ]


def finished(last: Row, start: datetime, end: datetime, expected: datetime) -> Row:
    """The columns of a run that its last state determines."""
    return {
        "state_id": last["id"],
        "state_type": last["type"],
        "state_name": last["name"],
        "state_timestamp": last["timestamp"],
        "start_time": start,
        "end_time": end,
        "total_run_time": end - start,
        "expected_start_time": expected,
        "run_count": 1,
        "created": expected,
        "updated": end,
    }


def batch_rows(
    targets: list[Row], size: int, tasks_per_run: int, days: float, rng: random.Random
) -> dict[str, list[Row]]:
    """One batch of finished flow runs with their task runs, states and logs."""
    tables = ("flow_runs", "flow_states", "last_states", "task_runs", "task_states", "logs")
    rows: dict[str, list[Row]] = {table: [] for table in tables}
    for _ in range(size):
        target = rng.choice(targets)
        run_id = uuid.uuid4()
        pending = datetime.now(timezone.utc) - timedelta(seconds=rng.uniform(600, days * 86400))
        running = pending + timedelta(seconds=rng.uniform(1, 30))
        end = running + timedelta(seconds=rng.uniform(5, 900))
        final = StateType.FAILED if rng.random() < 0.05 else StateType.COMPLETED
        flow_states = states(
            "flow_run_id", run_id, {"flow_run_id": str(run_id)}, [pending, running, end], final
        )
        rows["flow_states"] += flow_states
        rows["last_states"].append(
            {"id": run_id, "state_id": flow_states[-1]["id"], "updated": end}
        )
        name = generate_slug(2)
        rows["flow_runs"].append(
            {
                "id": run_id,
                "name": name,
                "flow_id": target["flow_id"],
                "deployment_id": target["deployment_id"],
                "work_queue_id": target["work_queue_id"],
                "work_queue_name": "default",
                "flow_version": "1.0",
                "tags": ["history"],
                "parameters": {"day": pending.date().isoformat()},
                "labels": target["labels"],
                "infrastructure_pid": str(rng.randint(1000, 4_000_000)),
                **finished(flow_states[-1], running, end, pending),
                "state_id": None,
            }
        )
        step = (end - running) / (tasks_per_run + 1)
        for k in range(tasks_per_run):
            task_id = uuid.uuid4()
            t_pending = running + step * k + timedelta(milliseconds=50)
            t_running, t_end = t_pending + timedelta(milliseconds=20), running + step * (k + 1)
            task_states = states(
                "task_run_id",
                task_id,
                {"flow_run_id": str(run_id), "task_run_id": str(task_id)},
                [t_pending, t_running, t_end],
                final if k == tasks_per_run - 1 else StateType.COMPLETED,
            )
            rows["task_states"] += task_states
            task = TASKS[k % len(TASKS)]
            rows["task_runs"].append(
                {
                    "id": task_id,
                    "name": f"{task}-{task_id.hex[:3]}",
                    "flow_run_id": run_id,
                    "task_key": f"{target['flow']}.{task}",
                    "dynamic_key": str(k // len(TASKS)),
                    "flow_run_run_count": 1,
                    "tags": ["history"],
                    "labels": {**target["labels"], "prefect.flow-run.id": str(run_id)},
                    **finished(task_states[-1], t_running, t_end, t_pending),
                }
            )
        rows["logs"] += [
            {
                "name": "prefect.flow_runs",
                "level": 20,
                "flow_run_id": run_id,
                "timestamp": at,
                "message": message,
                "created": at,
                "updated": at,
            }
            for at, message in (
                (running, f"Beginning flow run {name!r} for flow {target['flow']!r}"),
                (end, f"Finished in state {final.value.title()}()"),
            )
        ]
    return rows


async def fill(args: argparse.Namespace) -> Row:
    db = provide_database_interface()
    rng, flow_runs, batch = random.Random(args.seed), args.flow_runs, args.batch
    async with db.session_context(begin_transaction=True) as session:
        targets = await setup(db, session)
    created = dict.fromkeys(("flow_run", "task_run", "flow_run_state", "task_run_state", "log"), 0)
    samples: list[str] = []
    for done in range(0, flow_runs, batch):
        size = min(batch, flow_runs - done)
        rows = batch_rows(targets, size, args.task_runs_per_flow_run, args.days, rng)
        async with db.session_context(begin_transaction=True) as session:
            # flow_run.state_id and flow_run_state.flow_run_id refer to each other:
            # runs first, then their states, then the runs' pointers to their last state.
            await session.execute(sa.insert(db.FlowRun), rows["flow_runs"])
            await session.execute(sa.insert(db.FlowRunState), rows["flow_states"])
            await session.execute(sa.update(db.FlowRun), rows["last_states"])
            if rows["task_runs"]:
                await session.execute(sa.insert(db.TaskRun), rows["task_runs"])
                await session.execute(sa.insert(db.TaskRunState), rows["task_states"])
            await session.execute(sa.insert(db.Log), rows["logs"])
        for key, table in (
            ("flow_run", "flow_runs"),
            ("task_run", "task_runs"),
            ("flow_run_state", "flow_states"),
            ("task_run_state", "task_states"),
            ("log", "logs"),
        ):
            created[key] += len(rows[table])
        samples = samples or [str(r["id"]) for r in rows["flow_runs"][:3]]
    return {"created": created, "flows": list(FLOWS), "sample_flow_run_ids": samples}


async def count() -> Row:
    db = provide_database_interface()
    async with db.session_context() as session:
        counts: Row = {
            snake(name): (
                await session.execute(sa.select(sa.func.count()).select_from(getattr(db, name)))
            ).scalar_one()
            for name in COUNTED
        }
        counts["alembic_revision"] = (
            await session.execute(sa.text("SELECT version_num FROM alembic_version"))
        ).scalar_one()
    return counts


async def main(args: argparse.Namespace) -> Row:
    started = time.monotonic()
    try:
        if args.command == "fill":
            result = await fill(args)
        else:
            result = await count()
    finally:
        await (await provide_database_interface().engine()).dispose()
    return {**result, "prefect": prefect_version, "seconds": round(time.monotonic() - started, 2)}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    filling = commands.add_parser("fill", help="add finished flow runs to the database")
    filling.add_argument("--flow-runs", type=int, default=20_000)
    filling.add_argument("--task-runs-per-flow-run", type=int, default=1)
    filling.add_argument("--days", type=float, default=365, help="spread runs over the past days")
    filling.add_argument("--batch", type=int, default=2_000, help="flow runs per transaction")
    filling.add_argument("--seed", type=int, default=None)
    commands.add_parser("count", help="print the rows the upgrade must keep")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse(sys.argv[1:]))), sort_keys=True))
