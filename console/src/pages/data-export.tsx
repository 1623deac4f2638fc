import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.ts';
import { call, type Problem, problemFromNetworkFailure, problemFromResponse } from '../api/problems.ts';
import type { paths } from '../api/schema.d.ts';
import { PageSection, ProblemNotice, SelectField, TextField } from '../components.tsx';
import type { PageProps } from '../context.ts';
import { fieldProblems, pollInterval, utcTime } from './export-ui.ts';
import { Field } from './form-fields.tsx';
import './exports.css';

/**
 * Settings → Environment → Data export (seed 000): the manual export of the
 * company feature-adoption CSV, and the automatic export to the customer's bucket
 * with its status below the toggle. The words on screen are the seed's.
 */

const AGGREGATIONS = [
  { value: 'today', label: "Just today's snapshot" },
  { value: '30d_daily', label: '30 days, daily granularity' },
  { value: '3m_weekly', label: '3 months, weekly granularity' },
  { value: '6m_weekly', label: '6 months, weekly granularity' },
] as const;
type Aggregation = (typeof AGGREGATIONS)[number]['value'];

const PLAN_NAMES: Record<string, string> = { free: 'Free', pro: 'Pro', enterprise: 'Enterprise' };

export function DataExportPage(props: PageProps) {
  const { client: api, announce } = props;
  const plan = props.environment.plan;
  return (
    <PageSection title="Data export">
      <p>
        Export company adoption data of all your features in a CSV file, to use in other tools or databases: manually
        here, or automatically into your S3-compatible bucket. Data exports are available on the Pro and Enterprise
        plans; automatic exports on the Enterprise plan.
      </p>
      <ManualExport api={api} allowed={plan !== 'free'} plan={plan} />
      <AutomaticExport api={api} allowed={plan === 'enterprise'} plan={plan} announce={announce} />
    </PageSection>
  );
}

function PlanNotice(props: { what: string; needs: string; plan: string }) {
  return (
    <p class="notice">
      {props.what} needs the {props.needs} plan. This environment is on the {PLAN_NAMES[props.plan] ?? props.plan} plan.
    </p>
  );
}

// ---------------------------------------------------------------------------
// Manual export
// ---------------------------------------------------------------------------

type ManualState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'running'; readonly jobId: string }
  | { readonly kind: 'completed'; readonly url: string; readonly fileName: string; readonly rows: number | null }
  | { readonly kind: 'failed'; readonly message: string }
  /** A call failed; `jobId` when it was a look at a job that may still be running (Try again looks again). */
  | { readonly kind: 'problem'; readonly problem: Problem; readonly jobId?: string };

function ManualExport(props: { api: ApiClient; allowed: boolean; plan: string }) {
  const { api, allowed } = props;
  const headingId = useId();
  const [aggregation, setAggregation] = useState<Aggregation>('today');
  const [state, setState] = useState<ManualState>({ kind: 'idle' });
  const download = useRef<HTMLAnchorElement>(null);
  const busy = state.kind === 'starting' || state.kind === 'running';

  // While the job runs, look at it every few seconds; once it completes, save its file.
  useEffect(() => {
    if (state.kind !== 'running') return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = async () => {
      const outcome = await call(
        api.GET('/api/v1/company-exports/jobs/{job_id}', { params: { path: { job_id: state.jobId } } }),
      );
      if (stopped) return;
      if (!outcome.ok) {
        setState({ kind: 'problem', problem: outcome.problem, jobId: state.jobId });
        return;
      }
      const job = outcome.data;
      if (job.status === 'running') {
        timer = setTimeout(look, pollInterval());
      } else if (job.status === 'completed' && job.download_url) {
        const fileName = `company-export-${job.aggregation}-${job.as_of.slice(0, 10)}.csv`;
        setState({ kind: 'completed', url: job.download_url, fileName, rows: job.rows });
      } else {
        setState({ kind: 'failed', message: job.error ?? 'The export failed without a message.' });
      }
    };
    timer = setTimeout(look, pollInterval());
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, state]);

  // The file is saved as soon as its link exists: the link's answer says "attachment".
  useEffect(() => {
    if (state.kind === 'completed') download.current?.click();
  }, [state]);

  const start = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setState({ kind: 'starting' });
    const outcome = await call(api.POST('/api/v1/company-exports', { body: { aggregation } }));
    setState(
      outcome.ok ? { kind: 'running', jobId: outcome.data.job_id } : { kind: 'problem', problem: outcome.problem },
    );
  };

  return (
    <section aria-labelledby={headingId} class="export-section">
      <h2 id={headingId}>Manual export</h2>
      {!allowed && <PlanNotice what="Data export" needs="Pro" plan={props.plan} />}
      <form onSubmit={start}>
        <fieldset disabled={!allowed || busy}>
          <legend>Historical data aggregation</legend>
          {AGGREGATIONS.map((option) => (
            <label key={option.value} class="choice">
              <input
                type="radio"
                name="aggregation"
                value={option.value}
                checked={aggregation === option.value}
                onChange={() => setAggregation(option.value)}
              />{' '}
              {option.label}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={!allowed || busy}>
          Download export
        </button>
      </form>
      <div role="status" aria-live="polite">
        {busy && <p>Export running…</p>}
        {state.kind === 'completed' && (
          <p>
            Export ready ({state.rows ?? 0} rows):{' '}
            <a ref={download} href={state.url} download={state.fileName}>
              {state.fileName}
            </a>
          </p>
        )}
      </div>
      {state.kind === 'failed' && (
        <div class="notice notice-error" role="alert">
          <p>The export failed: {state.message}</p>
        </div>
      )}
      {state.kind === 'problem' && (
        <ProblemNotice
          problem={state.problem}
          onRetry={() => setState(state.jobId ? { kind: 'running', jobId: state.jobId } : { kind: 'idle' })}
        />
      )}
    </section>
  );
}

// ---------------------------------------------------------------------------
// Automatic export
// ---------------------------------------------------------------------------

type Settings = paths['/api/v1/company-exports/automatic']['get']['responses'][200]['content']['application/json'];

type Provider = 'aws' | 'gcp' | 'custom';
type Cadence = 'daily' | 'weekly';

interface Form {
  enabled: boolean;
  cadence: Cadence;
  provider: Provider;
  bucket_url: string;
  bucket: string;
  region: string;
  key: string;
  endpoint: string;
  access_key_id: string;
  secret_access_key: string;
}

/** The form's fields, by the name the API gives them, with the seed's labels. */
const LABELS: Record<keyof Form, string> = {
  enabled: 'Enable automatic export',
  cadence: 'Periodic schedule',
  provider: 'S3 Provider',
  bucket_url: 'S3 bucket URL',
  bucket: 'Bucket',
  region: 'Region',
  key: 'Key',
  endpoint: 'Endpoint',
  access_key_id: 'Access key',
  secret_access_key: 'Secret access key',
};

function formOf(settings: Settings | undefined): Form {
  return {
    enabled: settings?.enabled ?? false,
    cadence: settings?.cadence ?? 'daily',
    provider: settings?.provider ?? 'aws',
    bucket_url: settings?.bucket_url ?? '',
    bucket: settings?.bucket ?? '',
    region: settings?.region ?? '',
    key: settings?.key ?? '',
    endpoint: settings?.endpoint ?? '',
    access_key_id: settings?.access_key_id ?? '',
    secret_access_key: '',
  };
}

/** What Save sends: the toggle alone when it turns exports off, else the whole settings for the provider. */
function requestOf(form: Form) {
  // Off: the toggle alone, which keeps the stored settings (and needs none to be stored).
  if (!form.enabled) return { enabled: false };
  const location =
    form.provider === 'aws'
      ? { bucket_url: form.bucket_url }
      : {
          bucket: form.bucket,
          ...(form.region.trim() ? { region: form.region } : {}),
          key: form.key,
          ...(form.provider === 'custom' ? { endpoint: form.endpoint } : {}),
        };
  return {
    enabled: true,
    cadence: form.cadence,
    provider: form.provider,
    ...location,
    access_key_id: form.access_key_id,
    // Left empty with a secret stored: the stored one is kept (for the same access key).
    ...(form.secret_access_key ? { secret_access_key: form.secret_access_key } : {}),
  };
}

function AutomaticExport(props: {
  api: ApiClient;
  allowed: boolean;
  plan: string;
  announce: (message: string) => void;
}) {
  const { api, allowed, announce } = props;
  const headingId = useId();
  const [settings, setSettings] = useState<Settings | undefined>(undefined);
  const [form, setForm] = useState<Form>(formOf(undefined));
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<string, string>>>({});
  const [saving, setSaving] = useState(false);
  const [loads, setLoads] = useState(0);

  useEffect(() => {
    if (!allowed) return;
    let stopped = false;
    void call(api.GET('/api/v1/company-exports/automatic')).then((outcome) => {
      if (stopped) return;
      if (!outcome.ok) {
        setProblem(outcome.problem);
        return;
      }
      setProblem(undefined);
      // The first load fills the form; later ones (a run under way) only refresh the status.
      setSettings((before) => {
        if (!before) setForm(formOf(outcome.data));
        return outcome.data;
      });
    });
    return () => {
      stopped = true;
    };
  }, [allowed, api, loads]);

  // While a run is under way its status changes without anyone saving: look again now and then.
  useEffect(() => {
    if (settings?.status.last_status !== 'running') return;
    const timer = setTimeout(() => setLoads((n) => n + 1), pollInterval());
    return () => clearTimeout(timer);
  }, [settings]);

  const set = <K extends keyof Form>(name: K, value: Form[K]) => setForm((current) => ({ ...current, [name]: value }));

  const save = async (event: Event) => {
    event.preventDefault();
    if (saving) return;
    setSaving(true);
    setFieldErrors({});
    setProblem(undefined);
    const result = await api
      .PUT('/api/v1/company-exports/automatic', { body: requestOf(form) as never })
      .catch(() => undefined);
    setSaving(false);
    if (!result) {
      setProblem(problemFromNetworkFailure());
    } else if (result.data) {
      setSettings(result.data);
      setForm(formOf(result.data));
      announce(result.data.enabled ? 'Saved: automatic export is on.' : 'Saved: automatic export is off.');
    } else {
      // Nothing was saved: each problem beside the field it names, the rest above the form.
      setFieldErrors(fieldProblems(result.error, LABELS));
      setProblem(problemFromResponse(result.response.status, result.error));
    }
  };

  const disabled = !allowed || saving;
  const status = settings?.status;
  return (
    <section aria-labelledby={headingId} class="export-section">
      <h2 id={headingId}>Automatic export</h2>
      <p>
        Exports a CSV file every day (daily, after 00:00 UTC, a snapshot as of 00:00 UTC) or every week (Mondays) into
        your S3-compatible bucket: AWS S3, Google Cloud Storage, Cloudflare R2 and others. Saving checks the details by
        listing the files in the bucket.
      </p>
      {!allowed && <PlanNotice what="Automatic export" needs="Enterprise" plan={props.plan} />}
      <ProblemNotice problem={problem} onRetry={() => setLoads((n) => n + 1)} />
      <form onSubmit={save} noValidate>
        <Field error={fieldErrors.enabled}>
          {(describedBy) => (
            <label class="switch">
              <input
                type="checkbox"
                role="switch"
                checked={form.enabled}
                aria-checked={form.enabled}
                disabled={disabled}
                aria-describedby={describedBy}
                onChange={(event) => set('enabled', event.currentTarget.checked)}
              />{' '}
              {LABELS.enabled}
            </label>
          )}
        </Field>
        {allowed && settings && status && (
          <section aria-label="Automatic export status" class="export-status">
            <h3>Status</h3>
            <dl class="facts">
              <dt>Last export</dt>
              <dd>{status.last_run_at ? utcTime(status.last_run_at) : 'none yet'}</dd>
              <dt>Status</dt>
              <dd class={`status-${status.last_status.replace(/ /g, '-')}`}>{status.last_status}</dd>
              <dt>Next export</dt>
              <dd>{status.next_run_at ? utcTime(status.next_run_at) : 'none scheduled (automatic export is off)'}</dd>
              {status.error && (
                <>
                  <dt>Error</dt>
                  <dd>{status.error}</dd>
                </>
              )}
            </dl>
          </section>
        )}
        {form.enabled && (
          <fieldset disabled={disabled}>
            <legend>Export settings</legend>
            <SelectField
              name="cadence"
              label={LABELS.cadence}
              value={form.cadence}
              error={fieldErrors.cadence}
              options={[
                { value: 'daily', label: 'Daily' },
                { value: 'weekly', label: 'Weekly' },
              ]}
              onChange={(value) => set('cadence', value as Cadence)}
            />
            <SelectField
              name="provider"
              label={LABELS.provider}
              value={form.provider}
              error={fieldErrors.provider}
              options={[
                { value: 'aws', label: 'AWS' },
                { value: 'gcp', label: 'GCP' },
                { value: 'custom', label: 'Custom' },
              ]}
              onChange={(value) => set('provider', value as Provider)}
            />
            {form.provider === 'aws' ? (
              <TextField
                label={LABELS.bucket_url}
                hint="https://<bucket>.s3.<region>.amazonaws.com[/key]; the key is optional"
                value={form.bucket_url}
                error={fieldErrors.bucket_url}
                onInput={(value) => set('bucket_url', value)}
              />
            ) : (
              <>
                <TextField
                  label={LABELS.bucket}
                  value={form.bucket}
                  error={fieldErrors.bucket}
                  onInput={(value) => set('bucket', value)}
                />
                <TextField
                  label={LABELS.region}
                  hint="e.g. auto, us-east-1 (auto when left empty)"
                  value={form.region}
                  error={fieldErrors.region}
                  onInput={(value) => set('region', value)}
                />
                <TextField
                  label={LABELS.key}
                  hint="a folder in the bucket; optional"
                  value={form.key}
                  error={fieldErrors.key}
                  onInput={(value) => set('key', value)}
                />
                {form.provider === 'custom' && (
                  <TextField
                    label={LABELS.endpoint}
                    hint="e.g. https://<ACCOUNT_ID>.eu.r2.cloudflarestorage.com"
                    value={form.endpoint}
                    error={fieldErrors.endpoint}
                    onInput={(value) => set('endpoint', value)}
                  />
                )}
              </>
            )}
            <TextField
              label={LABELS.access_key_id}
              value={form.access_key_id}
              error={fieldErrors.access_key_id}
              onInput={(value) => set('access_key_id', value)}
            />
            <TextField
              label={LABELS.secret_access_key}
              type="password"
              autoComplete="new-password"
              hint={
                settings?.secret_access_key_set
                  ? 'A secret is stored and never shown again. Leave this empty to keep it.'
                  : undefined
              }
              value={form.secret_access_key}
              error={fieldErrors.secret_access_key}
              onInput={(value) => set('secret_access_key', value)}
            />
          </fieldset>
        )}
        <button type="submit" disabled={disabled}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </form>
    </section>
  );
}
