import { useState } from 'preact/hooks';
import type { Schema } from '@app/client';
import { settle } from './api-result';
import { ErrorNote } from './components/error-note';
import { href } from './router';
import type { Session } from './session';

type Job = Schema<'JobResponse'>;

export const isFinal = (status: Job['status']) => status === 'completed' || status === 'failed' || status === 'cancelled';

/** Cancel (while unfinished) and re-run (once final); each error shows beside the buttons. */
export function JobActions({ session, job, onChanged }: { session: Session; job: Job; onChanged: () => void }) {
  const [error, setError] = useState<{ action: string; message: string }>();
  const [busy, setBusy] = useState(false);
  const path = { id: job.job_id };

  async function cancel() {
    setBusy(true);
    setError(undefined);
    const answer = await settle(session.client.POST('/jobs/{id}/cancel', { params: { path } }));
    setBusy(false);
    if (!answer.ok) setError({ action: `Cancelling job ${job.job_id.slice(0, 8)}`, message: answer.message });
    onChanged();
  }

  async function rerun() {
    setBusy(true);
    setError(undefined);
    const answer = await settle(session.client.POST('/jobs/{id}/rerun', { params: { path } }));
    setBusy(false);
    if (!answer.ok) {
      setError({ action: `Re-running job ${job.job_id.slice(0, 8)}`, message: answer.message });
      return;
    }
    location.hash = href.job(answer.data.job_id);
  }

  return (
    <span class="actions">
      {!isFinal(job.status) && (
        <button type="button" disabled={busy} onClick={cancel} aria-label={`Cancel job ${job.job_id}`}>
          Cancel
        </button>
      )}
      {isFinal(job.status) && (
        <button type="button" disabled={busy} onClick={rerun} aria-label={`Re-run job ${job.job_id}`}>
          Re-run
        </button>
      )}
      {error && <ErrorNote action={error.action} message={error.message} />}
    </span>
  );
}

export function StatusBadge({ status }: { status: Job['status'] }) {
  return <span class={`status status-${status}`}>{status}</span>;
}
