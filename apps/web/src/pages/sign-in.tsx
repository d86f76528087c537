import { useState } from 'preact/hooks';
import { settle } from '../api-result';
import { ErrorNote } from '../components/error-note';
import { makeSession, type Session } from '../session';

/** User + token, checked against an authenticated route before anything is kept. */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [user, setUser] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const session = makeSession(user.trim(), token.trim());
    const answer = await settle(session.client.GET('/jobs', { params: { query: { limit: 1 } } }));
    setBusy(false);
    if (!answer.ok) {
      setError(answer.message);
      return;
    }
    onSignedIn(session);
  }

  return (
    <main class="narrow">
      <h1>Sign in to LeadersBoard</h1>
      <p class="muted">Use the user name and API token your operator gave you (the demo prints them).</p>
      <form onSubmit={submit}>
        <label for="sign-in-user">User</label>
        <input id="sign-in-user" name="user" autocomplete="username" required value={user} onInput={(event) => setUser(event.currentTarget.value)} />
        <label for="sign-in-token">API token</label>
        <input id="sign-in-token" name="token" type="password" autocomplete="current-password" required value={token} onInput={(event) => setToken(event.currentTarget.value)} />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      <ErrorNote action="Sign in" message={error} />
    </main>
  );
}
