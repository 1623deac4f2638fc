import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { type ApiClient, apiClient, type EnvironmentView } from './api/client.ts';
import { call, type Problem } from './api/problems.ts';
import { ProblemNotice, TextField } from './components.tsx';
import { type Session, SessionContext } from './context.ts';
import { EnvironmentsPage } from './environments.tsx';
import { environmentPath, PAGES } from './pages/index.ts';
import { type Credentials, credentialsFrom, forgetCredentials, loadCredentials, saveCredentials } from './session.ts';

/**
 * The console: sign-in, then "Settings → Environment: <name>" and its pages.
 * Hash routing (`#/environments/<id>/<page>`), so the static host never needs an
 * SPA fallback.
 */
export function App() {
  const [credentials, setCredentials] = useState<Credentials | undefined>(loadCredentials);
  const [status, setStatus] = useState('');
  const announce = useCallback((message: string) => {
    // Cleared first, so that the same message twice is announced twice.
    setStatus('');
    setTimeout(() => setStatus(message), 50);
  }, []);
  const signIn = useCallback((next: Credentials) => {
    saveCredentials(next);
    setCredentials(next);
  }, []);
  const signOut = useCallback(() => {
    forgetCredentials();
    setCredentials(undefined);
    announce('Signed out.');
  }, [announce]);
  const session = useMemo<Session | undefined>(
    () => credentials && { credentials, replaceCredentials: signIn, signOut, announce },
    [credentials, signIn, signOut, announce],
  );
  return (
    <Router hook={useHashLocation}>
      <FocusOnNavigation />
      <SkipLink />
      {session ? (
        <SessionContext.Provider value={session}>
          <SignedIn session={session} />
        </SessionContext.Provider>
      ) : (
        <SignIn onSignedIn={signIn} announce={announce} />
      )}
      <div class="status" role="status" aria-live="polite">
        {status}
      </div>
    </Router>
  );
}

/**
 * After an in-app navigation, focus moves to the new page's <main>, so that a
 * keyboard or screen-reader user starts reading it (not where the last page's
 * control was). The first load leaves focus alone.
 */
function FocusOnNavigation() {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    // After the new page has rendered.
    setTimeout(() => document.getElementById('main')?.focus(), 0);
  }, [location]);
  return null;
}

/**
 * "Skip to content": a button that moves focus to <main> (a `#main` link would be
 * read as a route by the hash router).
 */
function SkipLink() {
  return (
    <button type="button" class="skip-link" onClick={() => document.getElementById('main')?.focus()}>
      Skip to content
    </button>
  );
}

function Header(props: { readonly onSignOut?: () => void }) {
  return (
    <header class="topbar">
      <span class="brand">featurelake</span>
      {props.onSignOut ? (
        <button type="button" class="secondary" onClick={props.onSignOut}>
          Sign out
        </button>
      ) : null}
    </header>
  );
}

function SignIn(props: {
  readonly onSignedIn: (credentials: Credentials) => void;
  readonly announce: (m: string) => void;
}) {
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [, navigate] = useLocation();
  const submit = async (event?: Event) => {
    event?.preventDefault();
    if (busy) return;
    if (secret.trim() === '') {
      setProblem({ message: 'Enter an API key or the admin token.', fields: {}, retryable: false, status: undefined });
      return;
    }
    setBusy(true);
    setProblem(undefined);
    const credentials = credentialsFrom(secret);
    if (credentials.kind === 'admin') {
      const outcome = await call(apiClient(credentials).GET('/admin/v1/environments'));
      setBusy(false);
      if (!outcome.ok) {
        setProblem(outcome.problem);
        return;
      }
      props.onSignedIn(credentials);
      props.announce('Signed in as the admin.');
      navigate(ENVIRONMENTS_PATH);
      return;
    }
    const outcome = await call(apiClient(credentials).GET('/api/v1/environment'));
    setBusy(false);
    if (!outcome.ok) {
      setProblem(outcome.problem);
      return;
    }
    props.onSignedIn(credentials);
    props.announce(`Signed in to ${outcome.data.name}.`);
    navigate(environmentPath(outcome.data.environment_id));
  };
  return (
    <>
      <Header />
      <main id="main" tabIndex={-1} class="signin">
        <h1>Sign in</h1>
        <p>
          Sign in with an environment's API key (that environment only) or with the admin token. The key stays in this
          tab only and is forgotten when you sign out or close it.
        </p>
        <form onSubmit={submit} noValidate>
          <TextField
            label="API key or admin token"
            type="password"
            name="secret"
            autoComplete="off"
            value={secret}
            onInput={setSecret}
            error={problem && !problem.retryable ? problem.message : undefined}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        {problem?.retryable ? <ProblemNotice problem={problem} onRetry={() => submit()} /> : null}
      </main>
    </>
  );
}

/** The admin's list of environments. */
const ENVIRONMENTS_PATH = '/environments';

function SignedIn({ session }: { readonly session: Session }) {
  const admin = session.credentials.kind === 'admin';
  return (
    <Switch>
      {admin ? (
        <Route path={ENVIRONMENTS_PATH}>
          <Header onSignOut={session.signOut} />
          <main id="main" tabIndex={-1}>
            <EnvironmentsPage session={session} />
          </main>
        </Route>
      ) : null}
      <Route path="/environments/:id/:page">
        {(params) => <EnvironmentShell session={session} environmentId={params.id} slug={params.page} />}
      </Route>
      <Route>
        <Home session={session} />
      </Route>
    </Switch>
  );
}

/** Where a signed-in visit to `#/` (or an unknown path) goes: the key's own environment, or the admin's list. */
function Home({ session }: { readonly session: Session }) {
  if (session.credentials.kind === 'admin') return <Redirect to={ENVIRONMENTS_PATH} replace />;
  return <KeyHome session={session} />;
}

function KeyHome({ session }: { readonly session: Session }) {
  const { environment, problem, retry } = useEnvironment(session.credentials, undefined);
  if (environment) return <Redirect to={environmentPath(environment.environment_id)} replace />;
  return (
    <>
      <Header onSignOut={session.signOut} />
      <main id="main" tabIndex={-1}>
        {problem ? <ProblemNotice problem={problem} onRetry={retry} /> : <p>Loading…</p>}
      </main>
    </>
  );
}

/** Loads the environment the credentials act in; `retry` loads it again. */
function useEnvironment(credentials: Credentials, environmentId: string | undefined) {
  const client = useMemo(() => apiClient(credentials, environmentId), [credentials, environmentId]);
  const [environment, setEnvironment] = useState<EnvironmentView>();
  const [problem, setProblem] = useState<Problem>();
  const [attempt, setAttempt] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const mine = ++current.current;
    setProblem(undefined);
    call(client.GET('/api/v1/environment')).then((outcome) => {
      if (mine !== current.current) return;
      if (outcome.ok) setEnvironment(outcome.data);
      else setProblem(outcome.problem);
    });
  }, [client, attempt]);
  return { client, environment, problem, retry: () => setAttempt((n) => n + 1) };
}

function EnvironmentShell(props: { readonly session: Session; readonly environmentId: string; readonly slug: string }) {
  const { session, environmentId, slug } = props;
  const { client, environment, problem, retry } = useEnvironment(session.credentials, environmentId);
  const page = PAGES.find((candidate) => candidate.slug === slug);
  useEffect(() => {
    if (environment && page) document.title = `${page.title} · ${environment.name} · featurelake`;
  }, [environment, page]);
  // An API key sees its own environment only: another id in the URL leads back to it.
  if (environment && environment.environment_id !== environmentId) {
    return <Redirect to={environmentPath(environment.environment_id, slug)} replace />;
  }
  if (!page) return <Redirect to={environmentPath(environmentId)} replace />;
  return (
    <>
      <Header onSignOut={session.signOut} />
      <div class="frame">
        {environment ? (
          <EnvironmentNav environment={environment} current={page.slug} admin={session.credentials.kind === 'admin'} />
        ) : null}
        <main id="main" tabIndex={-1}>
          {environment ? (
            <page.component environment={environment} client={client} announce={session.announce} />
          ) : problem ? (
            <ProblemNotice problem={problem} onRetry={retry} />
          ) : (
            <p>Loading…</p>
          )}
        </main>
      </div>
    </>
  );
}

function EnvironmentNav(props: {
  readonly environment: EnvironmentView;
  readonly current: string;
  readonly admin: boolean;
}) {
  const { environment, current } = props;
  return (
    <nav class="sidenav" aria-label="Settings">
      {props.admin ? (
        <p class="back">
          <Link href={ENVIRONMENTS_PATH}>All environments</Link>
        </p>
      ) : null}
      <h2>Settings</h2>
      <h3>Environment: {environment.name}</h3>
      <ul>
        {PAGES.map((page) => (
          <li key={page.slug}>
            <Link
              href={environmentPath(environment.environment_id, page.slug)}
              aria-current={page.slug === current ? 'page' : undefined}
            >
              {page.title}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export type { ApiClient };
