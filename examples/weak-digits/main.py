"""A deliberately weak submission for the digits-anomaly benchmark: a baseline to beat.

The anomaly score of a test image is its mean pixel intensity (how much ink it has). Zeros are
neither the inkiest nor the faintest digits, so this ranks barely better than chance. It ignores the
training images and logs nothing: the platform's scorer gives it its official score.

    python main.py --config config.yaml --output OUT_DIR [--data DIR]

The data dir is --data, else LEADERBOARD_DATA_DIR (set by the platform), else
benchmarks/digits-anomaly/public in this repository.
"""

import argparse
import csv
import os
import sys

import yaml

LOCAL_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "digits-anomaly", "public"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml", help="YAML config (see config.yaml)")
    parser.add_argument("--output", default="output", help="directory for predictions.csv")
    parser.add_argument("--data", default="", help="the benchmark's public data (default: LEADERBOARD_DATA_DIR)")
    args = parser.parse_args()

    with open(args.config, encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    sign = -1.0 if config.get("invert") else 1.0
    data = args.data or os.environ.get("LEADERBOARD_DATA_DIR") or LOCAL_DATA
    test_path = os.path.join(data, "test.csv")
    if not os.path.isfile(test_path):
        sys.exit(f"{data}: no test.csv there; run this on the digits-anomaly benchmark or pass --data DIR")

    os.makedirs(args.output, exist_ok=True)
    with open(test_path, newline="", encoding="utf-8") as source, \
            open(os.path.join(args.output, "predictions.csv"), "w", newline="", encoding="utf-8") as target:
        rows = csv.reader(source)
        next(rows)
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(["id", "score"])
        count = 0
        for row in rows:
            pixels = [float(value) for value in row[1:]]
            writer.writerow([row[0], sign * sum(pixels) / len(pixels)])
            count += 1
    print(f"[weak-digits] wrote {count} predictions (score = {'minus ' if sign < 0 else ''}mean pixel intensity)")


if __name__ == "__main__":
    main()
