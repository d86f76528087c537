import { useState } from 'preact/hooks';
import { BenchmarksPage } from './pages/benchmarks';
import { BoardPage } from './pages/board';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { SignIn } from './pages/sign-in';
import { SubmitPage } from './pages/submit';
import { href, useRoute, type Route } from './router';
import { clearSession, loadSession, saveSession, type Session } from './session';

export function App() {
  const [session, setSession] = useState(loadSession);
  const route = useRoute();

  if (!session) {
    return (
      <SignIn
        onSignedIn={(signedIn) => {
          saveSession(signedIn);
          setSession(signedIn);
        }}
      />
    );
  }
  const signOut = () => {
    clearSession();
    setSession(undefined);
  };
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href={href.benchmarks()}>
          LeadersBoard
        </a>
        <nav aria-label="Main">
          <a href={href.benchmarks()} aria-current={route.page === 'benchmarks' || route.page === 'board' ? 'page' : undefined}>
            Benchmarks
          </a>
          <a href={href.submit()} aria-current={route.page === 'submit' ? 'page' : undefined}>
            Submit
          </a>
          <a href={href.jobs()} aria-current={route.page === 'jobs' || route.page === 'job' ? 'page' : undefined}>
            My jobs
          </a>
        </nav>
        <span class="who">
          Signed in as <strong>{session.user}</strong>
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} session={session} />
      </main>
    </>
  );
}

function Page({ route, session }: { route: Route; session: Session }) {
  switch (route.page) {
    case 'benchmarks':
      return <BenchmarksPage session={session} />;
    case 'board':
      return <BoardPage key={route.benchmarkId} session={session} benchmarkId={route.benchmarkId} />;
    case 'submit':
      return <SubmitPage session={session} />;
    case 'jobs':
      return <JobsPage session={session} />;
    case 'job':
      return <JobPage key={route.jobId} session={session} jobId={route.jobId} />;
    default:
      return (
        <p>
          No page at <code>{route.hash}</code>. <a href={href.benchmarks()}>Go to the benchmarks</a>.
        </p>
      );
  }
}
