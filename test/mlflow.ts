/** The MLflow server tests talk to; the test runner starts it with scripts/start-mlflow.sh. */
export function mlflowUri(): string {
  return process.env.MLFLOW_TRACKING_URI || 'http://127.0.0.1:5010';
}
