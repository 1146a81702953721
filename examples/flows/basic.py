"""1. A basic flow, and a flow whose tasks feed each other.

`hello` is the smallest useful flow. `etl` calls three tasks in order; the
return value of one is the argument of the next, and Prefect records each as
a task run of the flow run.

    python examples/flows/basic.py
"""

from __future__ import annotations

from prefect import flow, task


@flow(log_prints=True)
def hello(name: str = "world") -> str:
    message = f"Hello, {name}!"
    print(message)
    return message


@task
def extract() -> list[int]:
    return [3, 1, 4, 1, 5, 9, 2, 6]


@task
def transform(numbers: list[int]) -> list[int]:
    return sorted(n * 10 for n in numbers)


@task
def load(numbers: list[int]) -> dict[str, int]:
    return {"count": len(numbers), "total": sum(numbers)}


@flow(log_prints=True)
def etl() -> dict[str, int]:
    summary = load(transform(extract()))
    print(f"loaded {summary}")
    return summary


if __name__ == "__main__":
    print(hello())
    print(etl())
