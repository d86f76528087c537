"""A submission for the digits-anomaly benchmark: one-class anomaly detection on 8x8 digits.

Trains a detector on the benchmark's normal training images (public/train.csv), scores its
unlabeled test images (public/test.csv) and writes OUT_DIR/predictions.csv (`id,score`, higher =
more anomalous), which the platform's scorer compares with the hidden labels.

    python main.py --config config.yaml --output OUT_DIR [--data DIR]

The data dir is --data, else LEADERBOARD_DATA_DIR (the platform sets it to /data for a job on a
benchmark), else benchmarks/digits-anomaly/public in this repository (for local runs).
On LeadersBoard the platform also sets MLFLOW_TRACKING_URI, MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_ID,
so `mlflow.start_run()` attaches to the run the platform created. This code has no labels: it logs
what it can know (training score statistics, the threshold, the share of test images flagged);
the official score is the platform's.
"""

import argparse
import csv
import json
import os
import sys
import time

# BLAS/OpenMP start one thread per core by default; on a large host that wastes the job's process
# limit and buys nothing on 8x8 images.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(min(4, os.cpu_count() or 1)))

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402

DEFAULTS = {
    "model": "pca",  # pca | isolation_forest | ocsvm
    "seed": 42,
    # Logged threshold: this quantile of the anomaly scores of the normal training images.
    "threshold_quantile": 0.95,
    "pca": {"n_components": 12},
    "isolation_forest": {"n_estimators": 200, "max_samples": "auto"},
    "ocsvm": {"nu": 0.05, "gamma": "scale", "kernel": "rbf"},
}

# For local runs from a checkout: the benchmark's public data next to this example.
LOCAL_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "digits-anomaly", "public"))

MODELS = ("pca", "isolation_forest", "ocsvm")


def log(message: str) -> None:
    print(f"[anomaly-digits] {message}", flush=True)


def load_config(path: str) -> dict:
    config = {key: (dict(value) if isinstance(value, dict) else value) for key, value in DEFAULTS.items()}
    if path:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
        if not isinstance(loaded, dict):
            sys.exit(f"{path}: expected a mapping at the top level")
        for key, value in loaded.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key].update(value)
            else:
                config[key] = value
    if config["model"] not in MODELS:
        sys.exit(f"config: model must be one of {', '.join(MODELS)}, got {config['model']!r}")
    return config


class PCAReconstruction:
    """Anomaly score = squared reconstruction error after projecting on the normal data's top components."""

    def __init__(self, n_components: int):
        self.pca = PCA(n_components=n_components)

    def fit(self, x):
        self.pca.fit(x)
        return self

    def score(self, x):
        restored = self.pca.inverse_transform(self.pca.transform(x))
        return np.sum((x - restored) ** 2, axis=1)


class SklearnDetector:
    """IsolationForest / OneClassSVM: higher score_samples = more normal, so the anomaly score is its negation."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, x):
        self.estimator.fit(x)
        return self

    def score(self, x):
        return -self.estimator.score_samples(x)


def build_model(config: dict):
    name = config["model"]
    params = config[name]
    if name == "pca":
        return PCAReconstruction(int(params["n_components"]))
    if name == "isolation_forest":
        return SklearnDetector(
            IsolationForest(
                n_estimators=int(params["n_estimators"]),
                max_samples=params["max_samples"],
                random_state=int(config["seed"]),
            )
        )
    return SklearnDetector(OneClassSVM(nu=float(params["nu"]), gamma=params["gamma"], kernel=params["kernel"]))


def flat_params(config: dict) -> dict:
    params = {key: value for key, value in config.items() if not isinstance(value, dict)}
    for key, value in config[config["model"]].items():
        params[f"{config['model']}.{key}"] = value
    return params


def data_dir(option: str) -> str:
    for candidate in (option, os.environ.get("LEADERBOARD_DATA_DIR"), LOCAL_DATA):
        if candidate:
            if not os.path.isfile(os.path.join(candidate, "test.csv")):
                sys.exit(f"{candidate}: no test.csv there; run this on the digits-anomaly benchmark "
                         f"(it sets LEADERBOARD_DATA_DIR) or pass --data DIR")
            return candidate
    raise AssertionError("LOCAL_DATA is never empty")


def read_images(path: str, with_ids: bool):
    """(ids or None, pixels as a float array) from a CSV of p0..p63, optionally after an id column."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    ids = [row[0] for row in rows] if with_ids else None
    pixels = np.array([row[1:] if with_ids else row for row in rows], dtype=np.float64)
    return ids, pixels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml", help="YAML config (see config.yaml)")
    parser.add_argument("--output", default="output", help="directory for predictions.csv and metrics.json")
    parser.add_argument("--data", default="", help="the benchmark's public data (default: LEADERBOARD_DATA_DIR)")
    args = parser.parse_args()

    config = load_config(args.config)
    os.makedirs(args.output, exist_ok=True)
    data = data_dir(args.data)
    log(f"config: model={config['model']} seed={config['seed']}; data from {data}")

    _, train = read_images(os.path.join(data, "train.csv"), with_ids=False)
    test_ids, test = read_images(os.path.join(data, "test.csv"), with_ids=True)
    scaler = StandardScaler().fit(train)
    x_train = scaler.transform(train)
    x_test = scaler.transform(test)
    log(f"data: {len(x_train)} normal training images, {len(x_test)} unlabeled test images")

    model = build_model(config)
    started = time.perf_counter()
    model.fit(x_train)
    train_seconds = time.perf_counter() - started
    log(f"trained {config['model']} in {train_seconds:.3f}s")

    train_scores = model.score(x_train)
    threshold = float(np.quantile(train_scores, float(config["threshold_quantile"])))
    scores = model.score(x_test)
    # No labels here, so no AUROC: only what the detector itself can tell.
    metrics = {
        "train_score_mean": float(np.mean(train_scores)),
        "threshold": threshold,
        "test_flagged_fraction": float(np.mean(scores > threshold)),
        "train_seconds": train_seconds,
    }
    for name, value in metrics.items():
        log(f"metric {name} = {value:.4f}")

    predictions_path = os.path.join(args.output, "predictions.csv")
    with open(predictions_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "score"])
        writer.writerows((id_, repr(float(score))) for id_, score in zip(test_ids, scores))
    metrics_path = os.path.join(args.output, "metrics.json")
    with open(metrics_path, "w", encoding="utf-8") as handle:
        json.dump({"config": config, "metrics": metrics}, handle, indent=2)
    log(f"wrote {predictions_path} and {metrics_path}")

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        log("MLFLOW_TRACKING_URI is not set; skipping MLflow logging")
        return
    import mlflow  # imported late: it is the slowest import and only needed here

    # No run id: the platform's MLFLOW_RUN_ID makes this attach to the run it created.
    with mlflow.start_run() as run:
        log(f"logging to MLflow run {run.info.run_id}")
        mlflow.log_params(flat_params(config))
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(metrics_path)
        mlflow.log_artifact(predictions_path)
    log("done")


if __name__ == "__main__":
    main()
