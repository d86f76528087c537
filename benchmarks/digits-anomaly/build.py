"""Builds the digits-anomaly benchmark data from scikit-learn's bundled digits (no download).

    .venv/bin/python benchmarks/digits-anomaly/build.py [--out DIR]

Digit 0 is normal, every other digit is an anomaly. 30% of the zeros are held out for the test set,
with 10 images of each other digit; the rest of the zeros are the training set (normal images only,
as a one-class detector trains). Writes, under DIR (default: this script's folder):

    public/train.csv      p0..p63                one normal training image a row
    public/test.csv       id,p0..p63             test images, shuffled, labels withheld
    reference/labels.csv  id,label               label 1 = anomaly, 0 = normal (hidden from jobs)

Pixels are the 8x8 images row by row, integers 0..16. The output is the same bytes on every run
(fixed seed, legacy RandomState whose stream numpy keeps stable); a test checks that the committed
files are what this script writes.
"""

import argparse
import csv
import os

import numpy as np
from sklearn.datasets import load_digits

SEED = 7
NORMAL_DIGIT = 0
NORMAL_TEST_FRACTION = 0.3
ANOMALIES_PER_DIGIT = 10
PIXELS = [f"p{i}" for i in range(64)]


def split(target: np.ndarray, rng: np.random.RandomState):
    """Indices into the digits: (train, test) with train all normal, test a mix."""
    normal = rng.permutation(np.flatnonzero(target == NORMAL_DIGIT))
    held_out = int(round(len(normal) * NORMAL_TEST_FRACTION))
    test = list(normal[:held_out])
    train = sorted(normal[held_out:])
    for digit in range(10):
        if digit != NORMAL_DIGIT:
            test += list(rng.permutation(np.flatnonzero(target == digit))[:ANOMALIES_PER_DIGIT])
    return train, list(rng.permutation(test))


def write_csv(path: str, header: list, rows) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="where public/ and reference/ go")
    args = parser.parse_args()

    digits = load_digits()
    pixels = digits.data.astype(int)
    train, test = split(digits.target, np.random.RandomState(SEED))
    # Ids are the test rows' positions after shuffling, so they say nothing about the label.
    ids = range(1, len(test) + 1)

    write_csv(os.path.join(args.out, "public", "train.csv"), PIXELS, (pixels[i].tolist() for i in train))
    write_csv(os.path.join(args.out, "public", "test.csv"), ["id"] + PIXELS,
              ([id_] + pixels[i].tolist() for id_, i in zip(ids, test)))
    write_csv(os.path.join(args.out, "reference", "labels.csv"), ["id", "label"],
              ([id_, int(digits.target[i] != NORMAL_DIGIT)] for id_, i in zip(ids, test)))
    anomalies = sum(int(digits.target[i] != NORMAL_DIGIT) for i in test)
    print(f"digits-anomaly: {len(train)} training images, {len(test)} test images "
          f"({len(test) - anomalies} normal, {anomalies} anomalies) in {args.out}")


if __name__ == "__main__":
    main()
