import { checkJsonBody, RelayScope, routeRequest } from './relay-policy';
import { parseStrictJson } from '../support/strict-json';

const RUN = 'aaaa1111';
const OTHER = 'bbbb2222';
const scope = (): RelayScope => ({ runId: RUN, experimentId: '3', modelIds: new Set(['m-own']) });

/** The verdict for one request: 'allow', or the refusal's reason. */
function verdict(method: string, target: string, body?: string): string {
  const routing = routeRequest(method, target, scope());
  if (!routing.ok) return routing.reason;
  if (routing.route.kind !== 'json') return body === undefined ? 'allow' : 'a body on a call that takes none';
  if (body === undefined) return 'a JSON call without a body';
  let parsed;
  try {
    parsed = parseStrictJson(body);
  } catch (error) {
    return (error as Error).message;
  }
  return checkJsonBody(routing.route, parsed, scope()) ?? 'allow';
}

const api = (endpoint: string) => `/api/2.0/mlflow/${endpoint}`;
const artifacts = (rest: string) => `/api/2.0/mlflow-artifacts/artifacts/${rest}`;

describe('relay policy: what a job may send to MLflow', () => {
  it.each([
    // What mlflow-skinny 3.x sends for start_run, log_*, set_tag(s), log_artifact(s), log_model, end_run.
    ['GET', '/health'],
    ['GET', api(`runs/get?run_uuid=${RUN}&run_id=${RUN}`)],
    ['POST', api('runs/update'), `{"run_uuid":"${RUN}","status":"RUNNING","run_id":"${RUN}"}`],
    ['POST', api('runs/log-metric'), `{"run_uuid":"${RUN}","key":"auc","value":0.9,"timestamp":1796184606927,"step":0,"run_id":"${RUN}"}`],
    ['POST', api('runs/log-metric'), `{"run_id":"${RUN}","key":"auc","value":"NaN","timestamp":1,"model_id":"m-own"}`],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","metrics":[{"key":"a","value":1.0,"timestamp":1,"step":0,"run_id":"${RUN}"}]}`],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","params":[{"key":"p1","value":"1"}],"tags":[{"key":"t","value":"v"}]}`],
    ['POST', api('runs/log-parameter'), `{"run_uuid":"${RUN}","key":"lr","value":"0.1","run_id":"${RUN}"}`],
    ['POST', api('runs/set-tag'), `{"runId":"${RUN}","key":"t","value":"v"}`],
    ['POST', api('runs/delete-tag'), `{"run_id":"${RUN}","key":"t"}`],
    // Keys that merely contain a reserved name are the job's own; a metric may be called user_id.
    ['POST', api('runs/set-tag'), `{"run_id":"${RUN}","key":"my.user_id","value":"v"}`],
    ['POST', api('runs/log-metric'), `{"run_id":"${RUN}","key":"user_id","value":1,"timestamp":1}`],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","metrics":[{"key":"train.leaderboard.auc","value":1,"timestamp":1}]}`],
    ['POST', api('runs/outputs'), `{"run_id":"${RUN}","models":[{"model_id":"m-own","step":0}]}`],
    ['POST', api('runs/log-inputs'), `{"run_id":"${RUN}","datasets":[{"tags":[],"dataset":{"name":"d","digest":"x","source_type":"local","source":"{}"}}]}`],
    ['GET', api(`metrics/get-history?run_uuid=${RUN}&metric_key=my+metric%2Fx&run_id=${RUN}&max_results=25000`)],
    ['GET', api('experiments/get?experiment_id=3')],
    ['POST', api('logged-models'), `{"experiment_id":"3","name":"model","source_run_id":"${RUN}","params":[],"tags":[]}`],
    ['GET', api('logged-models/m-own')],
    ['PATCH', api('logged-models/m-own'), '{"model_id":"m-own","status":"LOGGED_MODEL_READY"}'],
    ['PATCH', api('logged-models/m-own/tags'), '{"tags":[{"key":"k","value":"v"}]}'],
    ['PUT', artifacts(`3/${RUN}/artifacts/scores.csv`)],
    ['PUT', artifacts(`3/${RUN}/artifacts/many/sub/b%20y%20%C3%A9.txt`)],
    ['PUT', artifacts(`3/${RUN}/artifacts/r%C3%A9sum%C3%A9%20(1)%5B2%5D.txt`.replace('%5B', '[').replace('%5D', ']'))],
    ['PUT', artifacts('3/models/m-own/artifacts/model.skops')],
    ['GET', artifacts(`3/${RUN}/artifacts/scores.csv`)],
    ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=3%2F${RUN}%2Fartifacts`],
    ['GET', '/api/2.0/mlflow-artifacts/artifacts?path=3%2Fmodels%2Fm-own%2Fartifacts%2Fsub'],
  ])('allows %s %s', (method: string, target: string, ...body: string[]) => {
    expect(verdict(method, target, body[0])).toBe('allow');
  });

  it.each([
    // Another run, in every spelling and place MLflow reads.
    ['POST', api('runs/log-batch'), `{"run_id":"${OTHER}","metrics":[]}`, /names run "bbbb2222"/],
    ['POST', api('runs/update'), `{"run_uuid":"${OTHER}","status":"FAILED"}`, /names run/],
    ['POST', api('runs/update'), `{"runId":"${OTHER}","status":"FAILED"}`, /names run/],
    ['POST', api('runs/update'), `{"runUuid":"${OTHER}","status":"FAILED"}`, /names run/],
    ['POST', api('runs/update'), `{"RUN_ID":"${OTHER}","status":"FAILED"}`, /names run/],
    ['POST', api('runs/update'), `{"run_id":"${RUN}","runId":"${RUN}","status":"FAILED"}`, /spelled twice/],
    ['POST', api('runs/update'), `{"run_id":"${RUN}","run_id":"${OTHER}"}`, /duplicate key "run_id"/],
    ['POST', api('runs/update'), `{"run_id":"${RUN}","status":"FAILED","user_id":"x"}`, /field "user_id" is not accepted/],
    ['POST', api('runs/update'), '{"status":"FAILED"}', /must name the job's run/],
    ['POST', api('runs/update'), `{"run_id":["${RUN}"]}`, /must be a string id/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","metrics":[{"key":"a","value":1,"timestamp":1,"run_id":"${OTHER}"}]}`, /names run/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","metrics":[{"key":"a","value":1,"timestamp":1,"runId":"${OTHER}"}]}`, /names run/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","tags":[{"key":"a","value":"b","parent":{"sourceRunId":"${OTHER}"}}]}`, /names run/],
    ['POST', api('runs/log-metric'), `{"run_id":"${RUN}","key":"a","value":1,"timestamp":1,"modelId":"m-other"}`, /did not create/],
    ['POST', api('runs/outputs'), `{"run_id":"${RUN}","models":[{"model_id":"m-other"}]}`, /did not create/],
    ['POST', api('runs/log-inputs'), `{"run_id":"${RUN}","models":[{"modelId":"m-other"}]}`, /did not create/],
    // The platform's own keys on the job's own run: its tags, and every official leaderboard. key.
    ['POST', api('runs/set-tag'), `{"run_id":"${RUN}","key":"user_id","value":"bob"}`, /tag "user_id" is reserved/],
    ['POST', api('runs/set-tag'), `{"run_id":"${RUN}","key":" User_ID ","value":"bob"}`, /tag " User_ID " is reserved/],
    ['POST', api('runs/set-tag'), `{"runId":"${RUN}","key":"job_id","value":"x"}`, /reserved/],
    ['POST', api('runs/delete-tag'), `{"run_id":"${RUN}","key":"submission_id"}`, /reserved/],
    ['POST', api('runs/set-tag'), `{"run_id":"${RUN}","key":"mlflow.parentRunId","value":"${OTHER}"}`, /tag "mlflow.parentRunId" is reserved/],
    ['POST', api('runs/set-tag'), `{"run_id":"${RUN}","key":"mlflow.rootRunId","value":"${OTHER}"}`, /reserved/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","tags":[{"key":"mlflow.user","value":"bob"}]}`, /tag "mlflow.user" is reserved/],
    ['POST', api('runs/log-metric'), `{"run_id":"${RUN}","key":"leaderboard.image_AUROC","value":1,"timestamp":1}`, /metric "leaderboard.image_AUROC" is reserved/],
    ['POST', api('runs/log-metric'), `{"run_id":"${RUN}","key":"Leaderboard. auc","value":1,"timestamp":1}`, /reserved/],
    ['POST', api('runs/log-parameter'), `{"run_id":"${RUN}","key":"LEADERBOARD.metric","value":"x"}`, /param "LEADERBOARD.metric" is reserved/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","metrics":[{"key":"ok","value":1,"timestamp":1},{"key":"leaderboard.auc","value":1,"timestamp":1}]}`, /metric "leaderboard.auc"/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","params":[{"key":"leaderboard.x","value":"1"}]}`, /param "leaderboard.x"/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}","tags":[{"key":"t","value":"v"},{"key":"user_id","value":"bob"}]}`, /tag "user_id"/],
    ['POST', api(`runs/log-batch?run_id=${RUN}`), `{"run_id":"${RUN}","metrics":[]}`, /no query string/],
    ['POST', api('runs/log-batch'), `[{"run_id":"${RUN}"}]`, /must be a JSON object/],
    ['POST', api('runs/log-batch'), `"${RUN}"`, /must be a JSON object/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}"} {}`, /trailing data/],
    ['POST', api('runs/log-batch'), `{"run_id":"${RUN}",}`, /expected a key/],
    ['POST', api('runs/log-batch'), `${'['.repeat(40)}${']'.repeat(40)}`, /nested deeper/],
    // Experiments and logged models.
    ['POST', api('logged-models'), `{"experiment_id":"3","name":"m","source_run_id":"${OTHER}"}`, /names run/],
    ['POST', api('logged-models'), `{"experiment_id":"3","name":"m","sourceRunId":"${OTHER}"}`, /names run/],
    ['POST', api('logged-models'), '{"experiment_id":"3","name":"m"}', /source_run_id/],
    ['POST', api('logged-models'), `{"experimentId":"1","name":"m","source_run_id":"${RUN}"}`, /names experiment "1"/],
    ['PATCH', api('logged-models/m-other'), '{"model_id":"m-other","status":"LOGGED_MODEL_READY"}', /not created by this job/],
    ['PATCH', api('logged-models/m-own'), '{"model_id":"m-other","status":"LOGGED_MODEL_READY"}', /did not create/],
    ['DELETE', api('logged-models/m-own'), undefined, /not among/],
    ['POST', api('logged-models/search'), '{}', /not among/],
    ['GET', api('experiments/get?experiment_id=1'), undefined, /experiment "1"/],
    ['GET', api('experiments/search'), undefined, /not among/],
    // Reads: the query is checked key by key.
    ['GET', api(`runs/get?run_id=${OTHER}`), undefined, /names run/],
    ['GET', api(`runs/get?run_id=${RUN}&run_uuid=${OTHER}`), undefined, /names run/],
    ['GET', api(`runs/get?run_id=${RUN}&run_id=${OTHER}`), undefined, /twice/],
    ['GET', api(`runs/get?run_id=${RUN}&runId=${OTHER}`), undefined, /malformed key/],
    ['GET', api(`runs/get?run_id=${RUN}&filter=x`), undefined, /no query parameter "filter"/],
    ['GET', api(`runs/get?run_id=${RUN}&`), undefined, /malformed key/],
    ['GET', api(`runs/get?run_id=%61aaa1111`), undefined, /not canonically encoded/],
    ['GET', api('runs/get'), undefined, /must name the job's run/],
    ['GET', api(`runs/get?run_id=${RUN}`), `{"run_id":"${OTHER}"}`, /a body on a call that takes none/],
    // Prefixes and endpoints no job needs.
    ['POST', `/ajax-api/2.0/mlflow/runs/log-batch?run_id=${RUN}`, `{"run_id":"${OTHER}"}`, /never \/ajax-api/],
    ['POST', '/ajax-api/graphql', '{}', /never \/ajax-api/],
    ['POST', '/graphql', '{}', /not an MLflow API/],
    ['GET', '/static-files/index.html', undefined, /not an MLflow API/],
    ['GET', '/', undefined, /not an MLflow API/],
    ['POST', api('runs/create'), '{"experiment_id":"3"}', /not among/],
    ['POST', api('runs/delete'), `{"run_id":"${RUN}"}`, /not among/],
    ['POST', api('runs/search'), '{"experiment_ids":["3"]}', /not among/],
    ['POST', api('experiments/delete'), '{"experiment_id":"3"}', /not among/],
    ['POST', api('registered-models/create'), '{"name":"x"}', /not among/],
    ['POST', api('runs/log-model'), `{"run_id":"${RUN}","model_json":"{}"}`, /not among/],
    ['GET', '/version?x=1', undefined, /no query/],
    // Targets whose raw form is not canonical.
    ['POST', 'http://mlflow:5000/api/2.0/mlflow/runs/update', `{"run_id":"${RUN}"}`, /starting with "\/"/],
    ['POST', api('runs/update/'), `{"run_id":"${RUN}"}`, /ends with "\/"/],
    ['POST', '/api/2.0/mlflow//runs/update', `{"run_id":"${RUN}"}`, /empty segment/],
    ['POST', '/api/2.0/mlflow/./runs/update', `{"run_id":"${RUN}"}`, /"\." or "\.\." segment/],
    ['POST', '/api/2.0/mlflow/x/../runs/update', `{"run_id":"${RUN}"}`, /"\." or "\.\." segment/],
    ['POST', '/api/2.0/mlflow/runs%2Fupdate', `{"run_id":"${RUN}"}`, /not among/],
    ['POST', '/api/2.0/%6dlflow/runs/update', `{"run_id":"${RUN}"}`, /not an MLflow API/],
    ['POST', `${api('runs/update')}#x`, `{"run_id":"${RUN}"}`, /fragment/],
    ['POST', `${api('runs/update')}\\`, `{"run_id":"${RUN}"}`, /backslash/],
    ['POST', `${api('runs/update')}\x01`, `{"run_id":"${RUN}"}`, /control/],
    ['POST', `${api('runs/update')}\u00e9`, `{"run_id":"${RUN}"}`, /non-ASCII/],
    // Artifacts: anything but a canonical path under the job's run or its models.
    ['PUT', artifacts(`3/${OTHER}/artifacts/x.txt`), undefined, /outside this job's run/],
    ['PUT', artifacts(`3/${OTHER}/artifacts/z\\..\\..\\..\\${RUN}/x.txt`), undefined, /backslash/],
    ['PUT', artifacts(`3/${RUN}/artifacts/z%5C..%5C..%5C${OTHER}%5Cx.txt`), undefined, /holds "\/", "\\" or a control/],
    ['PUT', artifacts(`3/${RUN}/artifacts/%2e%2e/%2e%2e/${OTHER}/artifacts/x.txt`), undefined, /empty, "\." or "\.\."/],
    ['PUT', artifacts(`3/${RUN}/artifacts/..%2F..%2F${OTHER}/x.txt`), undefined, /holds "\/", "\\" or a control/],
    ['PUT', artifacts(`3/${RUN}/artifacts/%41.txt`), undefined, /not canonically encoded \(expected "A.txt"\)/],
    ['PUT', artifacts(`3/${RUN}/artifacts/a%2520b`), undefined, /MLflow would decode again/],
    ['PUT', artifacts(`3/${RUN}/artifacts/%252e%252e`), undefined, /MLflow would decode again/],
    ['PUT', artifacts(`3/${RUN}/artifacts/a%23b`), undefined, /MLflow would decode again/],
    ['PUT', artifacts(`3/${RUN}/artifacts/%C0%AE%C0%AE`), undefined, /not valid percent-encoded UTF-8/],
    ['PUT', artifacts(`3/${RUN}/artifacts/%FF`), undefined, /not valid percent-encoded UTF-8/],
    ['PUT', artifacts(`3/${RUN}/artifacts/a%00b`), undefined, /control/],
    ['PUT', artifacts(`3/${RUN}/artifacts/${'a'.repeat(256)}`), undefined, /longer than 255 bytes/],
    ['PUT', artifacts(`3/${RUN}/artifacts/x.txt?path=y`), undefined, /no query string/],
    ['PUT', artifacts(`3/${RUN}/artifacts`), undefined, /outside this job's run/],
    ['PUT', artifacts(`3/${RUN}/x.txt`), undefined, /outside this job's run/],
    ['PUT', artifacts(`4/${RUN}/artifacts/x.txt`), undefined, /outside this job's run/],
    ['PUT', artifacts('3/models/m-other/artifacts/model.pkl'), undefined, /outside this job's run/],
    ['DELETE', artifacts(`3/${RUN}/artifacts/x.txt`), undefined, /not among/],
    ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=3`, undefined, /outside this job's run/],
    ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=3%2F${RUN}%2Fartifacts%2F..%2F..%2F${OTHER}`, undefined, /"\.\."/],
    ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=3%2F${RUN}%2Fartifacts&x=1`, undefined, /only the query parameter "path"/],
    ['PUT', `/api/2.0/mlflow-artifacts/mpu/create/3/${RUN}/artifacts/x`, undefined, /not an MLflow API/],
  ])('refuses %s %s %s', (method, target, body, reason) => {
    expect(verdict(method, target, body)).toMatch(reason);
  });

  it('lets a job touch a logged model only once MLflow said the job created it', () => {
    const own = scope();
    expect(routeRequest('GET', api('logged-models/m-new'), own).ok).toBe(false);
    own.modelIds.add('m-new');
    expect(routeRequest('GET', api('logged-models/m-new'), own).ok).toBe(true);
  });
});
