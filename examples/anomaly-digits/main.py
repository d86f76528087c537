"""Anomaly detection on scikit-learn's bundled digits (8x8 images, no download).

One digit is "normal"; every other digit is an anomaly. The detector is trained on normal training
images only, then scores a held-out test set that mixes normal images and anomalies.

    python main.py --config config.yaml --output OUT_DIR

On LeadersBoard the platform sets MLFLOW_TRACKING_URI, MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_ID, so
`mlflow.start_run()` attaches to the run the platform created. Run locally without
MLFLOW_TRACKING_URI and it only writes OUT_DIR/metrics.json and OUT_DIR/scores.csv.
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
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import OneClassSVM  # noqa: E402

DEFAULTS = {
    "normal_digit": 0,
    "model": "pca",  # pca | isolation_forest | ocsvm
    "test_size": 0.3,
    "seed": 42,
    # Threshold for image_F1: this quantile of the anomaly scores of the normal training images.
    "threshold_quantile": 0.95,
    "pca": {"n_components": 12},
    "isolation_forest": {"n_estimators": 200, "max_samples": "auto"},
    "ocsvm": {"nu": 0.05, "gamma": "scale", "kernel": "rbf"},
}

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
    if int(config["normal_digit"]) not in range(10):
        sys.exit(f"config: normal_digit must be 0..9, got {config['normal_digit']!r}")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml", help="YAML config (see config.yaml)")
    parser.add_argument("--output", default="output", help="directory for metrics.json and scores.csv")
    args = parser.parse_args()

    config = load_config(args.config)
    os.makedirs(args.output, exist_ok=True)
    normal_digit = int(config["normal_digit"])
    log(f"config: model={config['model']} normal_digit={normal_digit} seed={config['seed']}")

    digits = load_digits()
    x = digits.data.astype(np.float64)
    is_anomaly = (digits.target != normal_digit).astype(int)
    indices = np.arange(len(x))
    train_idx, test_idx = train_test_split(
        indices,
        test_size=float(config["test_size"]),
        random_state=int(config["seed"]),
        stratify=digits.target,
    )
    # Train on normal images only; the test set keeps its mix of normal images and anomalies.
    train_idx = train_idx[is_anomaly[train_idx] == 0]
    scaler = StandardScaler().fit(x[train_idx])
    x_train = scaler.transform(x[train_idx])
    x_test = scaler.transform(x[test_idx])
    y_test = is_anomaly[test_idx]
    log(f"data: {len(train_idx)} normal training images, {len(test_idx)} test images "
        f"({int(y_test.sum())} anomalies, {int((1 - y_test).sum())} normal)")

    model = build_model(config)
    started = time.perf_counter()
    model.fit(x_train)
    train_seconds = time.perf_counter() - started
    log(f"trained {config['model']} in {train_seconds:.3f}s")

    train_scores = model.score(x_train)
    threshold = float(np.quantile(train_scores, float(config["threshold_quantile"])))
    scores = model.score(x_test)
    predicted = (scores > threshold).astype(int)
    metrics = {
        "image_AUROC": float(roc_auc_score(y_test, scores)),
        "image_average_precision": float(average_precision_score(y_test, scores)),
        "image_F1": float(f1_score(y_test, predicted, zero_division=0)),
        "image_precision": float(precision_score(y_test, predicted, zero_division=0)),
        "image_recall": float(recall_score(y_test, predicted, zero_division=0)),
        "threshold": threshold,
        "train_seconds": train_seconds,
    }
    for name, value in metrics.items():
        log(f"metric {name} = {value:.4f}")

    metrics_path = os.path.join(args.output, "metrics.json")
    with open(metrics_path, "w", encoding="utf-8") as handle:
        json.dump({"config": config, "metrics": metrics}, handle, indent=2)
    scores_path = os.path.join(args.output, "scores.csv")
    with open(scores_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "digit", "is_anomaly", "score", "predicted_anomaly"])
        for index, digit, anomaly, score, guess in zip(test_idx, digits.target[test_idx], y_test, scores, predicted):
            writer.writerow([int(index), int(digit), int(anomaly), f"{score:.6f}", int(guess)])
    log(f"wrote {metrics_path} and {scores_path}")

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
        mlflow.log_artifact(scores_path)
    log("done")


if __name__ == "__main__":
    main()
