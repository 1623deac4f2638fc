import { useEffect, useId, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.ts';
import { call, type Problem, problemFromNetworkFailure, problemFromResponse } from '../api/problems.ts';
import { PageSection, ProblemNotice, SelectField, TextField } from '../components.tsx';
import type { PageProps } from '../context.ts';
import { fieldProblems, pollInterval, utcTime } from './export-ui.ts';
import './exports.css';

/**
 * Settings → Environment → Raw-event exports (seed 002): the export request form,
 * the jobs with their "N out of M partitions" progress, and each completed job's
 * files while they live (2 days after the job completes; jobs show for 3 days).
 */

/** Seed 002's event types (and the API's: feedback, and the SDKs' flag and prompt rows, asked for by name). */
const EVENT_TYPES = [
  'identify_user',
  'identify_company',
  'page_view',
  'track',
  'track_feature',
  'interaction',
  'session_start',
  'feedback',
  'feature_flag',
  'prompt_event',
] as const;
type EventType = (typeof EVENT_TYPES)[number];
/** What the API exports when `event_type` is left out: the seed's list, and feedback. */
const DEFAULT_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.slice(0, 8);

/** Seed 002: files can be downloaded for 2 days after the job completes. */
const FILES_LIVE_MS = 2 * 86_400_000;

interface Request {
  from: string;
  to: string;
  emails: string;
  event_type: readonly EventType[];
  user_id: string;
  company_id: string;
  segment_id: string;
  format: 'json' | 'csv';
  exclusions: boolean;
}

const LABELS: Record<keyof Request, string> = {
  from: 'From',
  to: 'To',
  emails: 'Emails',
  event_type: 'Event types',
  user_id: 'User IDs',
  company_id: 'Company IDs',
  segment_id: 'Segment',
  format: 'Format',
  exclusions: 'Exclusions',
};

const EMPTY: Request = {
  from: '',
  to: '',
  emails: '',
  event_type: DEFAULT_EVENT_TYPES,
  user_id: '',
  company_id: '',
  segment_id: '',
  format: 'json',
  exclusions: false,
};

/** `a, b\nc` → `['a', 'b', 'c']`: lists are typed one item per line or separated by commas. */
const list = (text: string) =>
  text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);

function body(request: Request) {
  return {
    from: request.from,
    to: request.to,
    emails: list(request.emails),
    event_type: [...request.event_type],
    user_id: list(request.user_id),
    company_id: list(request.company_id),
    ...(request.segment_id ? { segment_id: request.segment_id } : {}),
    format: request.format,
    exclusions: request.exclusions,
  };
}

export function RawEventExportsPage(props: PageProps) {
  const { client: api, announce } = props;
  const [refresh, setRefresh] = useState(0);
  return (
    <PageSection title="Raw-event exports">
      <p>
        Export the raw events of a date range, one gzip file per week (Monday to Sunday) in JSON lines or CSV. One
        export runs at a time per environment; jobs show here for 3 days, and their files can be downloaded for 2 days
        after the job completes.
      </p>
      <ExportForm api={api} announce={announce} onStarted={() => setRefresh((n) => n + 1)} />
      <ExportJobs api={api} refresh={refresh} />
    </PageSection>
  );
}

function ExportForm(props: { api: ApiClient; announce: (message: string) => void; onStarted: () => void }) {
  const { api } = props;
  const headingId = useId();
  const [request, setRequest] = useState<Request>(EMPTY);
  const [segments, setSegments] = useState<readonly { id: string; name: string }[]>([]);
  const [errors, setErrors] = useState<Partial<Record<string, string>>>({});
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // The segment list is a convenience: without it the select offers "All companies" only.
    void call(api.GET('/api/v1/segments')).then((outcome) => {
      if (outcome.ok) setSegments(outcome.data.segments.map(({ id, name }) => ({ id, name })));
    });
  }, [api]);

  const set = <K extends keyof Request>(name: K, value: Request[K]) =>
    setRequest((current) => ({ ...current, [name]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    setProblem(undefined);
    const result = await api.POST('/api/v1/analytics/exports', { body: body(request) }).catch(() => undefined);
    setBusy(false);
    if (!result) {
      setProblem(problemFromNetworkFailure());
    } else if (result.data) {
      props.announce(`Export started: job ${result.data.job_id}.`);
      props.onStarted();
    } else {
      // A 409 reads as seed 002 words it (its `details`), which problemFromResponse shows.
      setErrors(fieldProblems(result.error, LABELS));
      setProblem(problemFromResponse(result.response.status, result.error));
    }
  };

  const eventTypesError = useId();
  return (
    <section aria-labelledby={headingId} class="export-section">
      <h2 id={headingId}>New export</h2>
      <form onSubmit={submit} noValidate>
        <div class="field-row">
          <TextField
            label={LABELS.from}
            type="date"
            value={request.from}
            error={errors.from}
            onInput={(value) => set('from', value)}
          />
          <TextField
            label={LABELS.to}
            type="date"
            value={request.to}
            error={errors.to}
            onInput={(value) => set('to', value)}
          />
        </div>
        <fieldset aria-describedby={errors.event_type ? eventTypesError : undefined}>
          <legend>{LABELS.event_type}</legend>
          <div class="choices-inline">
            {EVENT_TYPES.map((type) => (
              <label key={type} class="choice">
                <input
                  type="checkbox"
                  name="event_type"
                  value={type}
                  checked={request.event_type.includes(type)}
                  onChange={(event) =>
                    set(
                      'event_type',
                      event.currentTarget.checked
                        ? EVENT_TYPES.filter((t) => t === type || request.event_type.includes(t))
                        : request.event_type.filter((t) => t !== type),
                    )
                  }
                />{' '}
                {type}
              </label>
            ))}
          </div>
          {errors.event_type && (
            <p id={eventTypesError} class="field-error">
              {errors.event_type}
            </p>
          )}
        </fieldset>
        <TextField
          label={LABELS.user_id}
          hint="Only these users; separate them with commas. Empty: all users."
          value={request.user_id}
          error={errors.user_id}
          onInput={(value) => set('user_id', value)}
        />
        <TextField
          label={LABELS.company_id}
          hint="Only these companies; separate them with commas. Empty: all companies."
          value={request.company_id}
          error={errors.company_id}
          onInput={(value) => set('company_id', value)}
        />
        <SelectField
          name="segment_id"
          label={LABELS.segment_id}
          value={request.segment_id}
          error={errors.segment_id}
          options={[
            { value: '', label: 'All companies' },
            ...segments.map(({ id, name }) => ({ value: id, label: `${name} (${id})` })),
          ]}
          onChange={(value) => set('segment_id', value)}
        />
        <fieldset>
          <legend>{LABELS.format}</legend>
          <div class="choices-inline">
            {(['json', 'csv'] as const).map((format) => (
              <label key={format} class="choice">
                <input
                  type="radio"
                  name="format"
                  value={format}
                  checked={request.format === format}
                  onChange={() => set('format', format)}
                />{' '}
                {format === 'json' ? 'JSON (one event per line)' : 'CSV'}
              </label>
            ))}
          </div>
        </fieldset>
        <label class="choice">
          <input
            type="checkbox"
            checked={request.exclusions}
            onChange={(event) => set('exclusions', event.currentTarget.checked)}
          />{' '}
          Leave out the excluded users and companies
        </label>
        <TextField
          label={LABELS.emails}
          hint="Who gets the download links when the export is ready; separate addresses with commas. Optional."
          value={request.emails}
          error={errors.emails}
          onInput={(value) => set('emails', value)}
        />
        <button type="submit" disabled={busy}>
          Start export
        </button>
      </form>
      <ProblemNotice problem={problem} onRetry={() => setProblem(undefined)} />
    </section>
  );
}

// ---------------------------------------------------------------------------
// The jobs
// ---------------------------------------------------------------------------

interface JobRow {
  readonly job_id: string;
  readonly status: string;
  readonly progress: string;
  readonly start_time: string;
  readonly end_time: string | null;
  readonly elapsed_time: string;
  readonly files: readonly { filename: string; url: string }[];
  readonly error: string | null;
  /** Why the job's files could not be read, when they could not. */
  readonly unreadable?: string;
}

/** How many of the newest jobs get their files and errors looked up. */
const DETAILED_JOBS = 20;

function ExportJobs(props: { api: ApiClient; refresh: number }) {
  const { api, refresh } = props;
  const headingId = useId();
  const [jobs, setJobs] = useState<readonly JobRow[] | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const listed = await call(api.GET('/api/v1/analytics/exports/jobs'));
      if (stopped) return;
      if (!listed.ok) {
        setProblem(listed.problem);
        return;
      }
      // The list has no files nor errors: the newest finished jobs are read one by one for them.
      const rows = await Promise.all(
        listed.data.map(async (job, index): Promise<JobRow> => {
          if (index >= DETAILED_JOBS || job.status === 'running') return { ...job, files: [], error: null };
          const detail = await call(
            api.GET('/api/v1/analytics/exports/jobs/{job_id}', { params: { path: { job_id: job.job_id } } }),
          );
          return detail.ok
            ? { ...job, files: detail.data.presigned_urls, error: detail.data.error ?? null }
            : { ...job, files: [], error: null, unreadable: detail.problem.message };
        }),
      );
      if (stopped) return;
      setJobs(rows);
      setProblem(undefined);
      if (rows.some((job) => job.status === 'running')) timer = setTimeout(() => setTick((n) => n + 1), pollInterval());
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, refresh, tick]);

  return (
    <section aria-labelledby={headingId} class="export-section">
      <h2 id={headingId}>Export jobs</h2>
      <ProblemNotice problem={problem} onRetry={() => setTick((n) => n + 1)} />
      {jobs && jobs.length === 0 && <p>No export in the last 3 days.</p>}
      {jobs && jobs.length > 0 && (
        <table class="jobs">
          <caption class="visually-hidden">Raw-event export jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Files</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.job_id}>
                <td>
                  {utcTime(job.start_time)}
                  <br />
                  <span class="hint">job {job.job_id}</span>
                </td>
                <td>
                  {job.status}
                  {job.status !== 'running' && job.end_time ? ` (${job.elapsed_time})` : ''}
                </td>
                <td>{job.progress}</td>
                <td>
                  <JobFiles job={job} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function JobFiles(props: { job: JobRow }) {
  const { job } = props;
  if (job.status === 'failed') return <span class="job-error">{job.error ?? 'The export failed.'}</span>;
  if (job.status !== 'completed') return <span>not ready yet</span>;
  if (job.unreadable) return <span class="job-error">{job.unreadable}</span>;
  if (job.files.length > 0) {
    const until = job.end_time
      ? utcTime(new Date(Date.parse(withZone(job.end_time)) + FILES_LIVE_MS).toISOString())
      : '';
    return (
      <>
        <ul>
          {job.files.map((file) => (
            <li key={file.filename}>
              <a href={file.url} download={file.filename}>
                {file.filename}
              </a>
            </li>
          ))}
        </ul>
        {until && <span class="hint">Links work until {until}.</span>}
      </>
    );
  }
  return <span>{job.end_time ? 'Files expired (2 days after the export completed)' : 'No files'}</span>;
}

const withZone = (instant: string) => (/[zZ]$/.test(instant) ? instant : `${instant}Z`);
