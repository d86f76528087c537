import { createApiClient, type ApiClient } from '@app/client';

/** Who is signed in; kept in sessionStorage so it ends with the browser tab. */
export interface Session {
  user: string;
  token: string;
  client: ApiClient;
}

const STORAGE_KEY = 'leadersboard.session';

export function makeSession(user: string, token: string): Session {
  return { user, token, client: createApiClient(location.origin, { token }) };
}

export function loadSession(): Session | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as { user?: unknown; token?: unknown } | null;
    if (saved && typeof saved.user === 'string' && typeof saved.token === 'string') return makeSession(saved.user, saved.token);
  } catch {
    // A damaged entry is the same as none.
  }
  return undefined;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ user: session.user, token: session.token }));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
