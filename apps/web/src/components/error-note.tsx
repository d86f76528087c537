/** An API error: what the user was doing, then the API's own message (as text, never HTML). */
export function ErrorNote({ action, message }: { action: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      <strong>{action} failed:</strong> {message}
    </p>
  );
}
