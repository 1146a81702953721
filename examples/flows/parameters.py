"""8. A parameterised flow: typed parameters in, a structured value out.

Prefect validates the parameters against the type hints (a string "3" for
`copies` becomes 3; "many" is rejected before the flow starts), shows them as
a form in the UI, and stores the returned model as the run's result.

    python examples/flows/parameters.py
"""

from __future__ import annotations

from typing import Literal

from prefect import flow
from pydantic import BaseModel


class Report(BaseModel):
    title: str
    copies: int
    paper: Literal["a4", "letter"]
    pages: list[str]


@flow
def make_report(
    title: str = "Weekly", copies: int = 1, paper: Literal["a4", "letter"] = "a4"
) -> Report:
    pages = [f"{title} - copy {i + 1} ({paper})" for i in range(copies)]
    return Report(title=title, copies=copies, paper=paper, pages=pages)


if __name__ == "__main__":
    print(make_report(title="Monthly", copies=2).model_dump())
