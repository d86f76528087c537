"""Scores a job's predictions for digits-anomaly (the platform runs it in a sandbox after the job).

    python score.py --predictions DIR --reference DIR --output DIR

Reads DIR/predictions.csv (header `id,score`, one row per test id, higher = more anomalous) and
reference/labels.csv (id,label, 1 = anomaly), writes OUTPUT/scores.json with image_AUROC and
image_average_precision. Any problem with the predictions exits 1 with one stderr line naming the
file, the line and what is wrong; the worker shows that line to the user, so it never quotes a label.
Standard library only: the metrics are computed here, exactly as scikit-learn does (see roc_auc and
average_precision), so scoring does not pay for importing scikit-learn.
"""

import argparse
import csv
import io
import json
import math
import os
import stat
import sys

PREDICTIONS = "predictions.csv"
LABELS = "labels.csv"
MAX_BYTES = 10 * 1024 * 1024
HEADER = ["id", "score"]


class BadInput(Exception):
    """A problem with the predictions: the message is the one line the user sees."""


def show(value: str) -> str:
    """A value from the file, quoted on one line and cut short."""
    return json.dumps(value if len(value) <= 40 else value[:40] + "...", ensure_ascii=False)


def read_predictions_text(directory: str) -> str:
    path = os.path.join(directory, PREDICTIONS)
    try:
        # No symlinks: a link could point the scorer at files the job must not name.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        names = sorted(os.listdir(directory))
        there = f"files there: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}" if names else "it is empty"
        raise BadInput(f"no {PREDICTIONS} in the output dir ({there})")
    except OSError as error:
        raise BadInput(f"{PREDICTIONS} cannot be opened ({'a symlink' if os.path.islink(path) else error.strerror}): write a plain file")
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise BadInput(f"{PREDICTIONS} is not a plain file")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise BadInput(f"{PREDICTIONS} is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput(f"{PREDICTIONS}: not UTF-8 text (byte {error.start})")


def parse_predictions(text: str, test_ids: list) -> dict:
    """{id: score} with every test id exactly once, or BadInput naming the first problem."""
    known = set(test_ids)
    scores = {}
    first_line = {}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise BadInput(f"{PREDICTIONS} is empty: expected the header line `id,score`")
        if [field.strip() for field in header] != HEADER:
            raise BadInput(f"{PREDICTIONS} line 1: header must be exactly `id,score`, got {show(','.join(header))}")
        for row in reader:
            where = f"{PREDICTIONS} line {reader.line_num}"
            if not row:
                continue
            if len(row) != 2:
                raise BadInput(f"{where}: expected 2 fields (id,score), got {len(row)}")
            id_, raw = row[0].strip(), row[1].strip()
            if id_ not in known:
                raise BadInput(f"{where}: id {show(id_)} is not a test id")
            if id_ in first_line:
                raise BadInput(f"{where}: id {id_} appears again (first on line {first_line[id_]})")
            try:
                score = float(raw)
            except ValueError:
                raise BadInput(f"{where}: score {show(raw)} is not a number")
            if not math.isfinite(score):
                raise BadInput(f"{where}: score {show(raw)} is not a finite number")
            first_line[id_] = reader.line_num
            scores[id_] = score
    except csv.Error as error:
        raise BadInput(f"{PREDICTIONS} line {reader.line_num}: not valid CSV ({error})")
    missing = [id_ for id_ in test_ids if id_ not in scores]
    if missing:
        raise BadInput(f"{PREDICTIONS}: {len(missing)} test ids have no prediction (first: {missing[0]})")
    return scores


def read_labels(directory: str) -> dict:
    """{id: label} in the reference's order. A problem here is the benchmark's, not the job's."""
    path = os.path.join(directory, LABELS)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != ["id", "label"]:
        raise RuntimeError(f"reference {LABELS}: header must be id,label")
    labels = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != 2 or row[1] not in ("0", "1") or row[0] in labels:
            raise RuntimeError(f"reference {LABELS} line {number} is malformed")
        labels[row[0]] = int(row[1])
    return labels


# Plain Python, the same numbers as scikit-learn's roc_auc_score and average_precision_score: on a
# few hundred rows, importing scikit-learn would be nearly all of the scoring time.
def roc_auc(y_true: list, y_score: list) -> float:
    """Mann-Whitney U over average ranks (ties count half), divided by positives x negatives."""
    order = sorted(range(len(y_score)), key=lambda index: y_score[index])
    ranks = [0.0] * len(order)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and y_score[order[end + 1]] == y_score[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    positives = sum(1 for label in y_true if label == 1)
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        raise ValueError("the reference needs both classes")
    rank_sum = sum(rank for rank, label in zip(ranks, y_true) if label == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def average_precision(y_true: list, y_score: list) -> float:
    """Sum over distinct thresholds, highest first, of (recall gained) x (precision there)."""
    positives = sum(1 for label in y_true if label == 1)
    pairs = sorted(zip(y_score, y_true), key=lambda pair: -pair[0])
    true_pos = false_pos = 0
    previous_recall = 0.0
    total = 0.0
    index = 0
    while index < len(pairs):
        threshold = pairs[index][0]
        while index < len(pairs) and pairs[index][0] == threshold:
            true_pos += pairs[index][1] == 1
            false_pos += pairs[index][1] != 1
            index += 1
        recall = true_pos / positives
        total += (recall - previous_recall) * (true_pos / (true_pos + false_pos))
        previous_recall = recall
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", required=True, help="the job's output dir (read-only)")
    parser.add_argument("--reference", required=True, help="the benchmark's reference/ dir (read-only)")
    parser.add_argument("--output", required=True, help="where scores.json goes")
    args = parser.parse_args()

    labels = read_labels(args.reference)
    try:
        scores = parse_predictions(read_predictions_text(args.predictions), list(labels))
    except BadInput as problem:
        print(problem, file=sys.stderr)
        return 1

    y_true = [labels[id_] for id_ in labels]
    y_score = [scores[id_] for id_ in labels]
    result = {
        "image_AUROC": roc_auc(y_true, y_score),
        "image_average_precision": average_precision(y_true, y_score),
    }
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "scores.json"), "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    print(f"scored {len(scores)} predictions: " + ", ".join(f"{k}={v:.4f}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # one line for the job's error_message, not a traceback
        print(f"score.py: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(2)
