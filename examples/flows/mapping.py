"""6. `.map()` over a list, and a subflow.

`word_lengths` maps a task over a list of words: one task run per element,
run concurrently. The parent flow calls it as a subflow (a flow called from
a flow gets its own flow run, linked to the parent) and adds the lengths.

    python examples/flows/mapping.py
"""

from __future__ import annotations

from prefect import flow, task


@task
def length(word: str) -> int:
    return len(word)


@flow
def word_lengths(words: list[str]) -> list[int]:
    return [future.result() for future in length.map(words)]


@flow
def sentence_stats(
    sentence: str = "the quick brown fox jumps over the lazy dog",
) -> dict[str, object]:
    lengths = word_lengths(sentence.split())
    return {"words": len(lengths), "letters": sum(lengths), "lengths": lengths}


if __name__ == "__main__":
    print(sentence_stats())
