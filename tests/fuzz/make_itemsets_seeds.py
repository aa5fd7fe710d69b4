#!/usr/bin/python3
"""Write the seed inputs of the itemsets_mine fuzz target.

    /usr/bin/python3 tests/fuzz/make_itemsets_seeds.py     # from the repository root

Writes tests/fuzz/corpus/itemsets_mine/seed-* (replacing them; inputs found by fuzzing,
named by their SHA-1, are kept). Each seed is the two option bytes described at the top of
fuzz_itemsets_mine.c, then the baskets, one byte per item with bit 7 closing the basket
(item 12 = none: an empty basket). Baskets are drawn from fixed item probabilities with a
seeded generator, so the files are the same on every run."""
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, 'tests', 'fuzz', 'corpus', 'itemsets_mine')
NONE = 12
DENSE = [0.7, 0.6, 0.6, 0.5, 0.5, 0.4, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1]


def encode(baskets):
    out = bytearray()
    for b in baskets:
        b = b or [NONE]
        out += bytes(b[:-1]) + bytes([b[-1] | 0x80])
    return bytes(out)


def draw(n, probs, seed, repeat=False):
    rng = random.Random(seed)
    res = []
    for _ in range(n):
        b = [i for i, p in enumerate(probs) if rng.random() < p]
        if repeat and b:
            b.append(b[0])
        rng.shuffle(b)
        res.append(b)
    return res


# name: (byte 0 = min_count - 1 | target << 2 | max_size << 4 | lift << 6 | constraints << 7,
#        byte 1 = min_confidence k | max_itemsets v << 4, baskets)
SEEDS = {
    'seed-all-min1': (0x00, 0x00, draw(40, DENSE, 1)),
    'seed-closed-min2': (0x05, 0x00, draw(60, DENSE, 2)),
    'seed-maximal-size2': (0x2A, 0x00, draw(60, DENSE, 3)),
    'seed-limit-ebufs': (0x00, 0x10, draw(30, [0.9] * 12, 4)),
    'seed-rules-lift-constrained': (0xC1, 0x08, draw(80, DENSE, 5)),
    'seed-empty-and-duplicates': (0x00, 0x04, draw(20, DENSE, 6, True) + [[], [], [3, 3, 3]]),
    'seed-600-baskets': (0x03, 0x06, draw(600, DENSE, 7)),
    'seed-one-item': (0x00, 0x00, [[5]] * 5),
    'seed-size3-closed': (0x34, 0x0C, draw(100, DENSE, 8)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith('seed-'):
            os.remove(os.path.join(OUT, name))
    for name, (flags, limits, baskets) in SEEDS.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(bytes([flags, limits]) + encode(baskets))


if __name__ == '__main__':
    main()
