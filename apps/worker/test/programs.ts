/** Small Python programs the worker tests submit. Each reads the platform's CLI contract. */
const ARGS = `import argparse
parser = argparse.ArgumentParser()
parser.add_argument('--config')
parser.add_argument('--output')
args = parser.parse_args()
`;

export const LOGS_METRIC = `${ARGS}import json, os, yaml, mlflow
config = yaml.safe_load(open(args.config))
print('config', json.dumps(config, sort_keys=True), flush=True)
with mlflow.start_run():
    mlflow.log_metric('image_AUROC', config['auroc'])
open(os.path.join(args.output, 'done.txt'), 'w').write('ok')
print('done', flush=True)
`;

export const EXIT_3 = `${ARGS}import sys
print('loading data', flush=True)
print('ValueError: bad input shape', file=sys.stderr, flush=True)
sys.exit(3)
`;

export const SLEEPS = `${ARGS}import time
print('sleeping', flush=True)
time.sleep(600)
`;

export const MEMORY_BOMB = `${ARGS}blocks = []
while True:
    blocks.append(b'x' * (32 * 1024 * 1024))
`;

export const FORK_BOMB = `${ARGS}import os, time
while True:
    if os.fork() == 0:
        time.sleep(120)
        os._exit(0)
`;

/** Starts a grandchild in its own session (it escapes a process-group kill) and sleeps. */
export function hangsWithGrandchild(marker: number): string {
  return `${ARGS}import subprocess, time
subprocess.Popen(['sleep', '${marker}'], start_new_session=True)
print('started', flush=True)
time.sleep(600)
`;
}

/** Tries what hostile code would try and prints what it could see. */
export function snoops(otherSubmissionDir: string): string {
  return `${ARGS}import json, os
seen = {}
def attempt(name, action):
    try:
        seen[name] = str(action())[:200]
    except Exception as error:
        seen[name] = 'DENIED ' + type(error).__name__
attempt('other_submission', lambda: os.listdir(${JSON.stringify(otherSubmissionDir)}))
attempt('shadow', lambda: open('/etc/shadow').read())
attempt('environ', lambda: dict(os.environ))
attempt('proc1_environ', lambda: open('/proc/1/environ', 'rb').read())
attempt('write_submission', lambda: open('main.py', 'a').write('#'))
print('REPORT ' + json.dumps(seen), flush=True)
`;
}

/** Tries to cheat through MLflow: rewrite another run's metric, read it, delete it, sign its own run as another user, log an official score; then logs its own. */
export function tampersWith(victimRunId: string): string {
  return `${ARGS}import json, mlflow
from mlflow.tracking import MlflowClient
client = MlflowClient()
seen = {}
def attempt(name, action):
    try:
        action()
        seen[name] = 'ALLOWED'
    except Exception as error:
        seen[name] = 'DENIED ' + str(error)[:120]
attempt('log_to_victim', lambda: client.log_metric(${JSON.stringify(victimRunId)}, 'image_AUROC', 1.0))
attempt('read_victim', lambda: client.get_run(${JSON.stringify(victimRunId)}))
attempt('delete_victim', lambda: client.delete_run(${JSON.stringify(victimRunId)}))
attempt('new_run', lambda: client.create_run(client.get_run(mlflow.active_run().info.run_id if mlflow.active_run() else __import__('os').environ['MLFLOW_RUN_ID']).info.experiment_id))
with mlflow.start_run():
    attempt('sign_as_bob', lambda: mlflow.set_tag('user_id', 'bob'))
    attempt('official_score', lambda: mlflow.log_metric('leaderboard.image_AUROC', 1.0))
    mlflow.log_metric('image_AUROC', 0.5)
print('REPORT ' + json.dumps(seen), flush=True)
`;
}

/** The usual thing users do: train a scikit-learn model and log it with MLflow's flavor. */
export const LOGS_SKLEARN_MODEL = `${ARGS}import mlflow
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
features, labels = load_digits(return_X_y=True)
model = LogisticRegression(max_iter=300).fit(features[:500], labels[:500])
with mlflow.start_run():
    mlflow.log_param('max_iter', 300)
    mlflow.log_metric('accuracy', model.score(features[500:], labels[500:]))
    mlflow.sklearn.log_model(model, name='model')
print('logged model', flush=True)
`;

/** Prints what the job sees of itself: uid, open fds, the open-files limit; holds its slot a moment. */
export const SHOWS_ITSELF = `${ARGS}import json, os, resource, time
fds = sorted(int(fd) for fd in os.listdir('/proc/self/fd') if os.path.exists(f'/proc/self/fd/{fd}'))
print('SELF ' + json.dumps({'uid': os.getuid(), 'fds': fds, 'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)}), flush=True)
time.sleep(2)
`;
