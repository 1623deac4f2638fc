import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { apiClient } from './api/client.ts';
import { call, type Problem } from './api/problems.ts';
import type { paths } from './api/schema.d.ts';
import { CopyButton, ProblemNotice, SelectField, TextField } from './components.tsx';
import type { Session } from './context.ts';
import { PLAN_NAMES } from './pages/environment.tsx';
import { environmentPath } from './pages/index.ts';

type Listed =
  paths['/admin/v1/environments']['get']['responses'][200]['content']['application/json']['environments'][number];
type Created = paths['/admin/v1/environments']['post']['responses'][201]['content']['application/json'];
type Plan = Created['plan'];

const PLAN_OPTIONS = (Object.keys(PLAN_NAMES) as Plan[]).map((plan) => ({ value: plan, label: PLAN_NAMES[plan] }));

/** The admin's start page: every environment, and "Create environment". */
export function EnvironmentsPage({ session }: { readonly session: Session }) {
  const client = useMemo(() => apiClient(session.credentials), [session.credentials]);
  const [environments, setEnvironments] = useState<Listed[]>();
  const [problem, setProblem] = useState<Problem>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setProblem(undefined);
    call(client.GET('/admin/v1/environments')).then((outcome) => {
      if (!current) return;
      if (outcome.ok) setEnvironments(outcome.data.environments);
      else setProblem(outcome.problem);
    });
    return () => {
      current = false;
    };
  }, [client, attempt]);
  useEffect(() => {
    document.title = 'Environments · featurelake';
  }, []);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Environments</h1>
      <ProblemNotice problem={problem} onRetry={() => setAttempt((n) => n + 1)} />
      {environments === undefined && !problem ? <p>Loading…</p> : null}
      {environments && environments.length === 0 ? <p>No environment yet: create the first one below.</p> : null}
      {environments && environments.length > 0 ? (
        <table>
          <caption class="visually-hidden">Every environment of this deployment</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Plan</th>
              <th scope="col">App token</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {environments.map((environment) => (
              <tr key={environment.environment_id}>
                <td>
                  <Link href={environmentPath(environment.environment_id)}>{environment.name}</Link>
                </td>
                <td>{PLAN_NAMES[environment.plan]}</td>
                <td>
                  <code>{environment.app_token}</code>
                </td>
                <td>{environment.created_at.slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <CreateEnvironment session={session} onCreated={() => setAttempt((n) => n + 1)} />
    </section>
  );
}

function CreateEnvironment(props: { readonly session: Session; readonly onCreated: () => void }) {
  const { session } = props;
  const [name, setName] = useState('');
  const [plan, setPlan] = useState<Plan>('free');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<Created>();
  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(undefined);
    const outcome = await call(apiClient(session.credentials).POST('/admin/v1/environments', { body: { name, plan } }));
    setBusy(false);
    if (!outcome.ok) {
      setProblem(outcome.problem);
      return;
    }
    setCreated(outcome.data);
    setName('');
    session.announce(`Environment ${outcome.data.name} created.`);
    props.onCreated();
  };
  return (
    <section class="panel" aria-labelledby="create-title">
      <h2 id="create-title">Create environment</h2>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" name="name" value={name} onInput={setName} error={problem?.fields.name} />
        <SelectField
          label="Plan"
          name="plan"
          value={plan}
          options={PLAN_OPTIONS}
          onChange={(value) => setPlan(value as Plan)}
          error={problem?.fields.plan}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create environment'}
        </button>
      </form>
      {problem && Object.keys(problem.fields).length === 0 ? (
        <ProblemNotice problem={problem} onRetry={() => setProblem(undefined)} />
      ) : null}
      {created ? (
        <div class="notice notice-ok">
          <p>
            <strong>{created.name}</strong> was created. Its API key is shown this once: copy it now.
          </p>
          <p class="secret">
            <code>{created.api_key}</code>
            <CopyButton text={created.api_key} what="API key" announce={session.announce} />
          </p>
          <p>
            <Link href={environmentPath(created.environment_id)}>Open {created.name}</Link>
          </p>
        </div>
      ) : null}
    </section>
  );
}
