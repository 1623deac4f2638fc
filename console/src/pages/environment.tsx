import { useState } from 'preact/hooks';
import { call, type Problem } from '../api/problems.ts';
import { CopyButton, PageSection, ProblemNotice } from '../components.tsx';
import { type PageProps, useSession } from '../context.ts';

export const PLAN_NAMES = { free: 'Free', pro: 'Pro', enterprise: 'Enterprise' } as const;

/** Environment (seed 002's "Environment Page"): name, plan, public keys, and a new API key. */
export function EnvironmentPage({ environment, client, announce }: PageProps) {
  return (
    <PageSection title="Environment">
      <dl class="facts">
        <dt>Name</dt>
        <dd>{environment.name}</dd>
        <dt>Plan</dt>
        <dd>{PLAN_NAMES[environment.plan]}</dd>
        <dt>Environment ID</dt>
        <dd>
          <code>{environment.environment_id}</code>
        </dd>
        <dt>App token</dt>
        <dd>
          <code>{environment.app_token}</code>
          <CopyButton text={environment.app_token} what="app token" announce={announce} />
        </dd>
        <dt>Tracking key</dt>
        <dd>
          <code>{environment.tracking_key}</code>
          <CopyButton text={environment.tracking_key} what="tracking key" announce={announce} />
        </dd>
      </dl>
      <NewApiKey client={client} announce={announce} environmentName={environment.name} />
    </PageSection>
  );
}

type Step =
  | { readonly kind: 'idle' }
  | { readonly kind: 'confirm' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'shown'; readonly apiKey: string };

function NewApiKey(props: Pick<PageProps, 'client' | 'announce'> & { readonly environmentName: string }) {
  const { client, announce } = props;
  const session = useSession();
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [problem, setProblem] = useState<Problem>();
  const generate = async () => {
    setStep({ kind: 'busy' });
    setProblem(undefined);
    const outcome = await call(client.POST('/api/v1/environment/api-key'));
    if (!outcome.ok) {
      setProblem(outcome.problem);
      setStep({ kind: 'idle' });
      return;
    }
    setStep({ kind: 'shown', apiKey: outcome.data.api_key });
    // Signed in with the old key: the console goes on with the new one.
    if (session.credentials.kind === 'api-key')
      session.replaceCredentials({ kind: 'api-key', apiKey: outcome.data.api_key });
    announce('A new API key was generated. The previous key no longer works.');
  };
  return (
    <section class="panel" aria-labelledby="api-key-title">
      <h2 id="api-key-title">API key</h2>
      <p>
        The API key is secret: it opens this environment's API (<code>Authorization: Token …</code>). Only its hash is
        stored, so it cannot be shown again. A new key replaces the current one, which stops working at once.
      </p>
      {step.kind === 'idle' ? (
        <button type="button" onClick={() => setStep({ kind: 'confirm' })}>
          Generate a new API key
        </button>
      ) : null}
      {step.kind === 'confirm' || step.kind === 'busy' ? (
        <div class="confirm">
          <p id="confirm-text">
            Replace the API key of {props.environmentName}? Every client using the current key must be given the new
            one.
          </p>
          <button type="button" onClick={generate} disabled={step.kind === 'busy'}>
            {step.kind === 'busy' ? 'Generating…' : 'Yes, generate a new key'}
          </button>{' '}
          <button
            type="button"
            class="secondary"
            onClick={() => setStep({ kind: 'idle' })}
            disabled={step.kind === 'busy'}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {step.kind === 'shown' ? (
        <div class="notice notice-ok">
          <p>
            <strong>New API key</strong> (shown this once: copy it now):
          </p>
          <p class="secret">
            <code>{step.apiKey}</code>
            <CopyButton text={step.apiKey} what="new API key" announce={announce} />
          </p>
        </div>
      ) : null}
      <ProblemNotice problem={problem} onRetry={generate} />
    </section>
  );
}
