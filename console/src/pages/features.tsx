import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, type Problem } from '../api/problems.ts';
import type { paths } from '../api/schema.d.ts';
import { PageSection, ProblemNotice, SelectField, TextField } from '../components.tsx';
import type { PageProps } from '../context.ts';
import { ConfirmDelete } from './shared/confirm-delete.tsx';
import {
  describeFilter,
  emptyFilter,
  type FilterDraft,
  FilterFields,
  filterBody,
  filterDraft,
} from './shared/filter-fields.tsx';
import { CheckboxField, errorFor, otherErrors, TextAreaField } from './shared/form-fields.tsx';

type Feature = paths['/api/v1/features']['get']['responses'][200]['content']['application/json']['features'][number];
type FeatureBody = paths['/api/v1/features/{id}']['put']['requestBody']['content']['application/json'];
type Funnel = paths['/api/v1/stars-funnel']['get']['responses'][200]['content']['application/json'];

interface Draft {
  id: string;
  name: string;
  type: 'event' | 'attribute';
  eventNames: string;
  flagChecks: boolean;
  filter: FilterDraft;
  adoptionMin: string;
  adoptionWindow: string;
  retentionMin: string;
  retentionWindow: string;
}

const newDraft = (): Draft => ({
  id: '',
  name: '',
  type: 'event',
  eventNames: '',
  flagChecks: false,
  filter: emptyFilter(),
  adoptionMin: '5',
  adoptionWindow: '28',
  retentionMin: '1',
  retentionWindow: '28',
});

function draftOf(feature: Feature): Draft {
  return {
    ...newDraft(),
    id: feature.id,
    name: feature.name,
    type: feature.type,
    eventNames: feature.type === 'event' ? feature.event_names.join('\n') : '',
    flagChecks: feature.type === 'event' ? feature.flag_checks : false,
    filter: feature.type === 'attribute' ? filterDraft(feature) : emptyFilter(),
    adoptionMin: String(feature.adoption.min_active_days),
    adoptionWindow: String(feature.adoption.window_days),
    retentionMin: String(feature.retention.min_active_days),
    retentionWindow: String(feature.retention.window_days),
  };
}

/** A whole number typed is sent as one; anything else as typed, so that the API's message says what is wrong. */
const days = (text: string): number | string => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : text);

/** The inputs of the form, by the API field whose errors they show. */
const FORM_FIELDS = [
  'id',
  'name',
  'type',
  'event_names',
  'flag_checks',
  'attribute',
  'operator',
  'value',
  'adoption',
  'retention',
];

/** Features: the catalog's features, each with its STARS funnel; create, edit, delete. */
export function FeaturesPage({ client, announce }: PageProps) {
  const [features, setFeatures] = useState<Feature[] | undefined>();
  const [listProblem, setListProblem] = useState<Problem | undefined>();
  const [funnel, setFunnel] = useState<Funnel | undefined>();
  const [funnelProblem, setFunnelProblem] = useState<Problem | undefined>();
  const [funnelLoading, setFunnelLoading] = useState(false);
  const [draft, setDraft] = useState<Draft | undefined>();
  const [editing, setEditing] = useState(false);
  const [saveProblem, setSaveProblem] = useState<Problem | undefined>();
  const [valueError, setValueError] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const [deleting, setDeleting] = useState<Feature | undefined>();
  const formHeading = useRef<HTMLHeadingElement>(null);

  const loadList = useCallback(async () => {
    const outcome = await call(client.GET('/api/v1/features'));
    if (outcome.ok) {
      setFeatures(outcome.data.features);
      setListProblem(undefined);
    } else setListProblem(outcome.problem);
  }, [client]);

  const loadFunnel = useCallback(async () => {
    setFunnelLoading(true);
    const outcome = await call(client.GET('/api/v1/stars-funnel'));
    setFunnelLoading(false);
    if (outcome.ok) {
      setFunnel(outcome.data);
      setFunnelProblem(undefined);
    } else setFunnelProblem(outcome.problem);
  }, [client]);

  useEffect(() => {
    void loadList();
    void loadFunnel();
  }, [loadList, loadFunnel]);

  useEffect(() => {
    if (draft) formHeading.current?.focus();
  }, [draft !== undefined, editing]);

  const open = (next: Draft, isEdit: boolean) => {
    setDraft(next);
    setEditing(isEdit);
    setSaveProblem(undefined);
    setValueError(undefined);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    setValueError(undefined);
    const common = {
      name: draft.name,
      adoption: { min_active_days: days(draft.adoptionMin), window_days: days(draft.adoptionWindow) },
      retention: { min_active_days: days(draft.retentionMin), window_days: days(draft.retentionWindow) },
    };
    let body: Record<string, unknown>;
    if (draft.type === 'event') {
      const names = draft.eventNames
        .split('\n')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      body = { ...common, type: 'event', event_names: names, flag_checks: draft.flagChecks };
    } else {
      const filter = filterBody(draft.filter);
      if (!filter.ok) {
        setValueError(filter.valueError);
        setSaveProblem({
          message: 'Please correct the highlighted field.',
          fields: {},
          retryable: false,
          status: undefined,
        });
        return;
      }
      body = { ...common, type: 'attribute', ...filter.body };
    }
    setSaving(true);
    const outcome = await call(
      client.PUT('/api/v1/features/{id}', { params: { path: { id: draft.id } }, body: body as unknown as FeatureBody }),
    );
    setSaving(false);
    if (!outcome.ok) {
      setSaveProblem(outcome.problem);
      return;
    }
    announce(`Feature “${outcome.data.name}” saved.`);
    setDraft(undefined);
    await loadList();
    void loadFunnel();
  };

  const remove = async (feature: Feature) => {
    const outcome = await call(client.DELETE('/api/v1/features/{id}', { params: { path: { id: feature.id } } }));
    if (!outcome.ok) {
      setListProblem(outcome.problem);
      return;
    }
    setDeleting(undefined);
    announce(`Feature “${feature.name}” deleted.`);
    await loadList();
    void loadFunnel();
  };

  const fields = saveProblem?.fields ?? {};
  const err = (field: string) => errorFor(fields, field);
  const funnelOf = (id: string) => funnel?.features.find((f) => f.feature_id === id);
  const unplaced = otherErrors(fields, FORM_FIELDS);

  return (
    <PageSection title="Features">
      <p class="hint">
        A feature counts as used by a company when its users track one of the feature's events, or while the company's
        attributes match the feature's filter. Its STARS funnel counts companies as a “Just today's snapshot” export
        does: never used, tried, retained, churned.
      </p>
      <ProblemNotice problem={listProblem} onRetry={() => void loadList()} />
      {features === undefined ? (
        listProblem ? null : (
          <p>Loading features…</p>
        )
      ) : features.length === 0 ? (
        <p>No features yet.</p>
      ) : (
        <div class="table-scroll">
          <table>
            <caption>
              Features and their STARS funnel
              {funnel
                ? ` (companies, as of ${new Date(funnel.as_of).toISOString().slice(0, 16).replace('T', ' ')} UTC)`
                : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Uses</th>
                <th scope="col">Never</th>
                <th scope="col">Tried</th>
                <th scope="col">Retained</th>
                <th scope="col">Churned</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {features.map((feature) => {
                const stars = funnelOf(feature.id);
                const cell = (n: number | undefined) => (n === undefined ? '…' : n.toLocaleString('en-US'));
                return (
                  <tr key={feature.id}>
                    <th scope="row">{feature.name}</th>
                    <td>
                      <code>{feature.id}</code>
                    </td>
                    <td>
                      {feature.type === 'event'
                        ? `Events: ${feature.event_names.join(', ') || '(none)'}${feature.flag_checks ? '; flag checks' : ''}`
                        : `Attribute: ${describeFilter(feature)}`}
                    </td>
                    <td>{cell(stars?.never)}</td>
                    <td>{cell(stars?.tried)}</td>
                    <td>{cell(stars?.retained)}</td>
                    <td>{cell(stars?.churned)}</td>
                    <td>
                      <div class="row-actions">
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Edit ${feature.name}`}
                          onClick={() => open(draftOf(feature), true)}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Delete ${feature.name}`}
                          onClick={() => setDeleting(feature)}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {deleting ? (
        <ConfirmDelete
          what={`feature “${deleting.name}”`}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        />
      ) : null}
      <ProblemNotice problem={funnelProblem} onRetry={() => void loadFunnel()} />
      <div class="form-actions">
        <button type="button" onClick={() => open(newDraft(), false)}>
          New feature
        </button>
        <button type="button" class="secondary" disabled={funnelLoading} onClick={() => void loadFunnel()}>
          {funnelLoading ? 'Counting…' : 'Refresh the STARS funnel'}
        </button>
      </div>

      {draft ? (
        <form aria-labelledby="feature-form" onSubmit={(event) => void save(event)} noValidate>
          <h2 id="feature-form" tabIndex={-1} ref={formHeading}>
            {editing ? `Edit feature “${draft.name || draft.id}”` : 'New feature'}
          </h2>
          <ProblemNotice problem={saveProblem} />
          {unplaced.length > 0 ? (
            <ul class="field-error">
              {unplaced.map((message) => (
                <li key={message}>{message}</li>
              ))}
            </ul>
          ) : null}
          {editing ? (
            <p>
              ID: <code>{draft.id}</code>
            </p>
          ) : (
            <TextField
              label="ID"
              value={draft.id}
              hint="Letters, digits and _ . : - (the feature's key in the SDKs; also the export's Feature ID)."
              error={err('id')}
              onInput={(id) => setDraft({ ...draft, id })}
            />
          )}
          <TextField
            label="Name"
            value={draft.name}
            error={err('name')}
            onInput={(name) => setDraft({ ...draft, name })}
          />
          <SelectField
            label="Type"
            value={draft.type}
            options={[
              { value: 'event', label: 'Event: used when its events are tracked' },
              { value: 'attribute', label: "Attribute: used while a company's attributes match" },
            ]}
            error={err('type')}
            onChange={(type) => setDraft({ ...draft, type: type as Draft['type'] })}
          />
          {draft.type === 'event' ? (
            <>
              <TextAreaField
                label="Event names"
                hint="One per line, as the track calls name them."
                value={draft.eventNames}
                error={err('event_names')}
                onInput={(eventNames) => setDraft({ ...draft, eventNames })}
              />
              <CheckboxField
                label="Count flag checks that found the feature on as uses (flag_checks)"
                checked={draft.flagChecks}
                error={err('flag_checks')}
                onChange={(flagChecks) => setDraft({ ...draft, flagChecks })}
              />
            </>
          ) : (
            <FilterFields
              draft={draft.filter}
              onChange={(filter) => setDraft({ ...draft, filter })}
              errors={{ attribute: err('attribute'), operator: err('operator'), value: valueError ?? err('value') }}
            />
          )}
          <fieldset>
            <legend>Adopted: active on at least … days of some … consecutive days</legend>
            <TextField
              label="Adoption: active days"
              type="number"
              value={draft.adoptionMin}
              error={errorFor(fields, 'adoption.min_active_days') ?? (fields.adoption ? err('adoption') : undefined)}
              onInput={(adoptionMin) => setDraft({ ...draft, adoptionMin })}
            />
            <TextField
              label="Adoption: window days"
              type="number"
              value={draft.adoptionWindow}
              error={errorFor(fields, 'adoption.window_days')}
              onInput={(adoptionWindow) => setDraft({ ...draft, adoptionWindow })}
            />
          </fieldset>
          <fieldset>
            <legend>Retained: active on at least … of the last … days</legend>
            <TextField
              label="Retention: active days"
              type="number"
              value={draft.retentionMin}
              error={errorFor(fields, 'retention.min_active_days') ?? (fields.retention ? err('retention') : undefined)}
              onInput={(retentionMin) => setDraft({ ...draft, retentionMin })}
            />
            <TextField
              label="Retention: window days"
              type="number"
              value={draft.retentionWindow}
              error={errorFor(fields, 'retention.window_days')}
              onInput={(retentionWindow) => setDraft({ ...draft, retentionWindow })}
            />
          </fieldset>
          <div class="form-actions">
            <button type="submit" disabled={saving}>
              {saving ? 'Saving…' : 'Save feature'}
            </button>
            <button type="button" class="secondary" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
    </PageSection>
  );
}
