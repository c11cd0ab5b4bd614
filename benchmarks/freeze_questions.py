"""One-off: write the questions bench_kb.py asks today to benchmarks/questions_frozen.jsonl.

For each size, the synthetic knowledge base is generated exactly as bench_kb.py generates it (no import:
the questions depend only on the generator), and the same 10 warm-up and 300 timed questions are made.
Run once; the file is committed and read from then on, never regenerated.

    .venv/bin/python benchmarks/freeze_questions.py 1000,10000,100000,300000,1000000
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_kb import DEFAULT_QUESTIONS, SEED, WARMUP, Generator, Reservoir, make_questions, seed_pools


def questions_for(size: int, seed: int = SEED) -> list[dict]:
    pools = seed_pools()
    reservoir = Reservoir(size=400, rng=random.Random(seed + 1))
    gen = Generator(pools, seed + size, reservoir)
    for _ in gen.documents(size):
        pass
    samples = {k: sorted(v, key=lambda r: r.text) for k, v in reservoir.kept.items()}
    warmup = make_questions(samples, WARMUP, random.Random(seed + 3))
    timed = make_questions(samples, DEFAULT_QUESTIONS, random.Random(seed + 2))
    return ([{"size": size, "set": "warmup", "n": i, "q": q} for i, q in enumerate(warmup)]
            + [{"size": size, "set": "timed", "n": i, "q": q} for i, q in enumerate(timed)])


def main() -> None:
    sizes = [int(s) for s in sys.argv[1].split(",")]
    out = Path(__file__).resolve().parent / "questions_frozen.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for size in sizes:
            t0 = time.perf_counter()
            rows = questions_for(size)
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            print(f"{size:,}: {len(rows)} questions, generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
