import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { call, type Problem } from '../api/problems.ts';
import type { paths } from '../api/schema.d.ts';
import { PageSection, ProblemNotice, TextField } from '../components.tsx';
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
import { errorFor, otherErrors } from './shared/form-fields.tsx';

type Segment = paths['/api/v1/segments']['get']['responses'][200]['content']['application/json']['segments'][number];
type SegmentBody = paths['/api/v1/segments/{id}']['put']['requestBody']['content']['application/json'];

interface Draft {
  id: string;
  name: string;
  filters: FilterDraft[];
}

/** Segments: named sets of companies by their attributes (every filter must hold); create, edit, delete. */
export function SegmentsPage({ client, announce }: PageProps) {
  const [segments, setSegments] = useState<Segment[] | undefined>();
  const [listProblem, setListProblem] = useState<Problem | undefined>();
  const [draft, setDraft] = useState<Draft | undefined>();
  const [editing, setEditing] = useState(false);
  const [saveProblem, setSaveProblem] = useState<Problem | undefined>();
  const [valueErrors, setValueErrors] = useState<Record<number, string>>({});
  const [saving, setSaving] = useState(false);
  const [deleting, setDeleting] = useState<Segment | undefined>();
  const formHeading = useRef<HTMLHeadingElement>(null);

  const loadList = useCallback(async () => {
    const outcome = await call(client.GET('/api/v1/segments'));
    if (outcome.ok) {
      setSegments(outcome.data.segments);
      setListProblem(undefined);
    } else setListProblem(outcome.problem);
  }, [client]);

  useEffect(() => {
    void loadList();
  }, [loadList]);

  useEffect(() => {
    if (draft) formHeading.current?.focus();
  }, [draft !== undefined, editing]);

  const open = (next: Draft, isEdit: boolean) => {
    setDraft(next);
    setEditing(isEdit);
    setSaveProblem(undefined);
    setValueErrors({});
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    const filters: unknown[] = [];
    const localErrors: Record<number, string> = {};
    draft.filters.forEach((filter, i) => {
      const built = filterBody(filter);
      if (built.ok) filters.push(built.body);
      else localErrors[i] = built.valueError;
    });
    setValueErrors(localErrors);
    if (Object.keys(localErrors).length > 0) {
      setSaveProblem({
        message: 'Please correct the highlighted fields.',
        fields: {},
        retryable: false,
        status: undefined,
      });
      return;
    }
    setSaving(true);
    const outcome = await call(
      client.PUT('/api/v1/segments/{id}', {
        params: { path: { id: draft.id } },
        body: { name: draft.name, filters } as unknown as SegmentBody,
      }),
    );
    setSaving(false);
    if (!outcome.ok) {
      setSaveProblem(outcome.problem);
      return;
    }
    announce(`Segment “${outcome.data.name}” saved.`);
    setDraft(undefined);
    await loadList();
  };

  const remove = async (segment: Segment) => {
    const outcome = await call(client.DELETE('/api/v1/segments/{id}', { params: { path: { id: segment.id } } }));
    if (!outcome.ok) {
      setListProblem(outcome.problem);
      return;
    }
    setDeleting(undefined);
    announce(`Segment “${segment.name}” deleted.`);
    await loadList();
  };

  const fields = saveProblem?.fields ?? {};
  const unplaced = otherErrors(fields, ['id', 'name', 'filters']);
  // `filters` itself (e.g. too many), as opposed to one filter's field.
  const filtersError = fields.filters;

  return (
    <PageSection title="Segments">
      <p class="hint">
        A company is in a segment when every filter holds on its attributes (no filter: every company). Exports list
        each company's segments.
      </p>
      <ProblemNotice problem={listProblem} onRetry={() => void loadList()} />
      {segments === undefined ? (
        listProblem ? null : (
          <p>Loading segments…</p>
        )
      ) : segments.length === 0 ? (
        <p>No segments yet.</p>
      ) : (
        <div class="table-scroll">
          <table>
            <caption>Segments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Filters</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {segments.map((segment) => (
                <tr key={segment.id}>
                  <th scope="row">{segment.name}</th>
                  <td>
                    <code>{segment.id}</code>
                  </td>
                  <td>
                    {segment.filters.length === 0 ? 'every company' : segment.filters.map(describeFilter).join(' and ')}
                  </td>
                  <td>
                    <div class="row-actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Edit ${segment.name}`}
                        onClick={() =>
                          open({ id: segment.id, name: segment.name, filters: segment.filters.map(filterDraft) }, true)
                        }
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`Delete ${segment.name}`}
                        onClick={() => setDeleting(segment)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {deleting ? (
        <ConfirmDelete
          what={`segment “${deleting.name}”`}
          onConfirm={() => void remove(deleting)}
          onCancel={() => setDeleting(undefined)}
        />
      ) : null}
      <div class="form-actions">
        <button type="button" onClick={() => open({ id: '', name: '', filters: [emptyFilter()] }, false)}>
          New segment
        </button>
      </div>

      {draft ? (
        <form aria-labelledby="segment-form" onSubmit={(event) => void save(event)} noValidate>
          <h2 id="segment-form" tabIndex={-1} ref={formHeading}>
            {editing ? `Edit segment “${draft.name || draft.id}”` : 'New segment'}
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
              hint="Letters, digits and _ . : - (the export's Segment IDs)."
              error={errorFor(fields, 'id')}
              onInput={(id) => setDraft({ ...draft, id })}
            />
          )}
          <TextField
            label="Name"
            value={draft.name}
            error={errorFor(fields, 'name')}
            onInput={(name) => setDraft({ ...draft, name })}
          />
          <fieldset>
            <legend>Filters (all must hold)</legend>
            {filtersError ? <p class="field-error">{filtersError}</p> : null}
            {draft.filters.map((filter, i) => {
              const at = `filters[${i}]`;
              const replace = (next: FilterDraft) =>
                setDraft({ ...draft, filters: draft.filters.map((f, j) => (j === i ? next : f)) });
              return (
                <div class="filter-row" key={i}>
                  <FilterFields
                    prefix={`Filter ${i + 1}`}
                    draft={filter}
                    onChange={replace}
                    errors={{
                      attribute: errorFor(fields, `${at}.attribute`),
                      operator: errorFor(fields, `${at}.operator`),
                      value: valueErrors[i] ?? errorFor(fields, `${at}.value`) ?? fields[at],
                    }}
                  />
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => setDraft({ ...draft, filters: draft.filters.filter((_, j) => j !== i) })}
                  >
                    Remove filter {i + 1}
                  </button>
                </div>
              );
            })}
            <button
              type="button"
              class="secondary"
              onClick={() => setDraft({ ...draft, filters: [...draft.filters, emptyFilter()] })}
            >
              Add a filter
            </button>
          </fieldset>
          <div class="form-actions">
            <button type="submit" disabled={saving}>
              {saving ? 'Saving…' : 'Save segment'}
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
