import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, type Problem } from '../api/problems.ts';
import type { paths } from '../api/schema.d.ts';
import { CopyButton, PageSection, ProblemNotice } from '../components.tsx';
import type { PageProps } from '../context.ts';

type RecentEvents = paths['/api/v1/tracking/events']['get']['responses'][200]['content']['application/json'];
type Unassociated = paths['/api/v1/tracking/unassociated']['get']['responses'][200]['content']['application/json'];

/** How often "Recent events" asks again while the page is shown (and the tab visible). */
export const RECENT_EVENTS_POLL_MS = 3000;
const RECENT_EVENTS_SHOWN = 50;

/** The SDK snippets of README "Use Bucket's or Reflag's SDKs", with this environment's key and this origin. */
function snippets(trackingKey: string, origin: string) {
  return [
    {
      id: 'browser',
      title: 'Browser SDK (@reflag/browser-sdk)',
      hint: 'The publishable key is the tracking key.',
      code: `import { ReflagClient } from '@reflag/browser-sdk';

const reflag = new ReflagClient({
  publishableKey: '${trackingKey}',
  apiBaseUrl: '${origin}',
  user: { id: 'u1', name: 'Ada' },
  company: { id: 'c1', name: 'Acme' },
});
await reflag.initialize(); // sends the user and the company
reflag.track('Started huddle');`,
    },
    {
      id: 'node',
      title: 'Node SDK (@reflag/node-sdk)',
      hint: "The secret key is the environment's API key (never put it in a page); polling keeps the SDK off Reflag's own servers.",
      code: `import { ReflagClient } from '@reflag/node-sdk';

const reflag = new ReflagClient({
  secretKey: process.env.FEATURELAKE_API_KEY,
  apiBaseUrl: '${origin}',
  flagsSyncMode: 'polling',
});
await reflag.initialize();
await reflag.updateCompany('c1', { userId: 'u1', attributes: { name: 'Acme' } });
reflag.track('u1', 'Started huddle', { companyId: 'c1' });
await reflag.flush();`,
    },
    {
      id: 'curl',
      title: 'curl (the tracking API, seed 001)',
      hint: 'The tracking key goes in the path; associate each user with a company so that their events count.',
      code: `curl -X POST '${origin}/${trackingKey}/company' \\
  -H 'content-type: application/json' \\
  -d '{"companyId": "c1", "userId": "u1", "attributes": {"name": "Acme"}}'

curl -X POST '${origin}/${trackingKey}/event' \\
  -H 'content-type: application/json' \\
  -d '{"event": "Started huddle", "userId": "u1", "companyId": "c1"}'`,
    },
  ];
}

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'UTC',
});
const when = (iso: string) => `${timeFormat.format(new Date(iso))} UTC`;

/** Tracking (seed 001's "Tracking" tab): the key and SDK set-up, recent events, unassociated events. */
export function TrackingPage({ environment, client, announce }: PageProps) {
  const origin = window.location.origin;
  return (
    <PageSection title="Tracking">
      <h2>Tracking key</h2>
      <p class="facts-inline">
        <code>{environment.tracking_key}</code>{' '}
        <CopyButton text={environment.tracking_key} what="the tracking key" announce={announce} />
      </p>
      <p class="hint">
        Public: it goes into pages and the tracking URL (<code>{`${origin}/${environment.tracking_key}/<method>`}</code>
        ).
      </p>

      <h2>Set up tracking</h2>
      {snippets(environment.tracking_key, origin).map((snippet) => (
        <section class="snippet" key={snippet.id} aria-labelledby={`snippet-${snippet.id}`}>
          <h3 id={`snippet-${snippet.id}`}>{snippet.title}</h3>
          <p class="hint">{snippet.hint}</p>
          <pre>
            <code>{snippet.code}</code>
          </pre>
          <CopyButton text={snippet.code} what={`the ${snippet.title} snippet`} announce={announce} />
        </section>
      ))}

      <RecentEventsSection client={client} />
      <UnassociatedSection client={client} />
    </PageSection>
  );
}

/** Asks for the newest events every few seconds while the tab is visible; stops when the page goes. */
function RecentEventsSection({ client }: Pick<PageProps, 'client'>) {
  const [answer, setAnswer] = useState<RecentEvents | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [checkedAt, setCheckedAt] = useState<Date | undefined>();
  const inFlight = useRef(false);

  const load = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    const outcome = await call(
      client.GET('/api/v1/tracking/events', { params: { query: { limit: String(RECENT_EVENTS_SHOWN) } } }),
    );
    inFlight.current = false;
    if (outcome.ok) {
      setAnswer(outcome.data);
      setProblem(undefined);
      setCheckedAt(new Date());
    } else {
      setProblem(outcome.problem);
    }
  }, [client]);

  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      if (timer !== undefined || document.hidden) return;
      void load();
      timer = setInterval(() => void load(), RECENT_EVENTS_POLL_MS);
    };
    const stop = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => (document.hidden ? stop() : start());
    start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [load]);

  return (
    <section aria-labelledby="recent-events">
      <h2 id="recent-events">Recent events</h2>
      <p class="hint">
        The newest {RECENT_EVENTS_SHOWN} events received today or yesterday (UTC), refreshed every{' '}
        {RECENT_EVENTS_POLL_MS / 1000} seconds while this tab is visible.
        {checkedAt ? ` Last checked ${checkedAt.toLocaleTimeString('en-GB')}.` : ''} On AWS an event shows once Firehose
        has delivered it, about a minute after it was sent.
      </p>
      <ProblemNotice problem={problem} onRetry={() => void load()} />
      {answer === undefined ? (
        problem ? null : (
          <p>Loading recent events…</p>
        )
      ) : answer.events.length === 0 ? (
        <p>No events received today or yesterday. Send one with a snippet above: it shows here within seconds.</p>
      ) : (
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Recent events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Type</th>
                <th scope="col">Event</th>
                <th scope="col">User</th>
                <th scope="col">Company</th>
                <th scope="col">Attributes</th>
              </tr>
            </thead>
            <tbody>
              {answer.events.map((event) => (
                <tr key={event.event_id}>
                  <td>{when(event.received_at)}</td>
                  <td>{event.event_type}</td>
                  <td>{event.event_name ?? event.feature_id ?? ''}</td>
                  <td>{event.user_id ?? ''}</td>
                  <td>{event.company_id ?? ''}</td>
                  <td>
                    {event.attributes ? (
                      <code class="attributes">
                        {event.attributes}
                        {event.attributes_truncated ? '…' : ''}
                      </code>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Seed 001: "The 'Tracking' tab … will let you know if you have unassociated events." */
function UnassociatedSection({ client }: Pick<PageProps, 'client'>) {
  const [answer, setAnswer] = useState<Unassociated | undefined>();
  const [problem, setProblem] = useState<Problem | undefined>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    const outcome = await call(client.GET('/api/v1/tracking/unassociated'));
    setLoading(false);
    if (outcome.ok) {
      setAnswer(outcome.data);
      setProblem(undefined);
    } else {
      setProblem(outcome.problem);
    }
  }, [client]);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="unassociated-events">
      <h2 id="unassociated-events">Unassociated events</h2>
      <p class="hint">
        Events tracked without a company by users that no company call has associated with a company: they count for no
        company in exports. Send a company call with the user's <code>userId</code> to associate them. Looks at the last
        30 days; refresh by hand (each check reads the environment's history of company calls).
      </p>
      <ProblemNotice problem={problem} onRetry={() => void load()} />
      {answer ? (
        <>
          <p>
            <strong>
              {answer.unassociated_tracks === 0
                ? 'No unassociated events in the last 30 days.'
                : `${count(answer.unassociated_tracks, 'unassociated event')} from ${count(answer.unassociated_users, 'user')} in the last 30 days.`}
            </strong>
          </p>
          {answer.users.length > 0 ? (
            <div class="table-scroll">
              <table>
                <caption>
                  {answer.unassociated_users > answer.users.length
                    ? `The ${answer.users.length} users with the most unassociated events`
                    : 'Users with unassociated events'}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">User ID</th>
                    <th scope="col">Events</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {answer.users.map((user) => (
                    <tr key={user.user_id}>
                      <td>{user.user_id}</td>
                      <td>{user.tracks}</td>
                      <td>{when(user.last_seen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </>
      ) : problem ? null : (
        <p>Loading unassociated events…</p>
      )}
      <button type="button" class="secondary" disabled={loading} onClick={() => void load()}>
        {loading ? 'Checking…' : 'Check unassociated events again'}
      </button>
    </section>
  );
}

const count = (n: number, noun: string) => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
