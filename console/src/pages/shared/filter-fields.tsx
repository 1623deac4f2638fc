import { SelectField, TextField } from '../../components.tsx';
import { TextAreaField } from './form-fields.tsx';

/** DESIGN "Filter operators", in the words the forms show. */
export const OPERATORS = [
  { value: 'eq', label: 'equals (eq)' },
  { value: 'neq', label: 'does not equal (neq)' },
  { value: 'gt', label: 'greater than (gt)' },
  { value: 'gte', label: 'greater than or equal (gte)' },
  { value: 'lt', label: 'less than (lt)' },
  { value: 'lte', label: 'less than or equal (lte)' },
  { value: 'contains', label: 'contains' },
  { value: 'in', label: 'is one of (in)' },
  { value: 'is_set', label: 'is set (is_set)' },
  { value: 'is_not_set', label: 'is not set (is_not_set)' },
] as const;

export type Operator = (typeof OPERATORS)[number]['value'];
export const takesNoValue = (operator: string) => operator === 'is_set' || operator === 'is_not_set';

/** A filter as the form holds it: the value as the JSON text typed. */
export interface FilterDraft {
  attribute: string;
  operator: Operator;
  value: string;
}

export const emptyFilter = (): FilterDraft => ({ attribute: '', operator: 'eq', value: '' });

export function filterDraft(filter: { attribute: string; operator: string; value?: unknown }): FilterDraft {
  return {
    attribute: filter.attribute,
    operator: filter.operator as Operator,
    value: takesNoValue(filter.operator) || filter.value === undefined ? '' : JSON.stringify(filter.value),
  };
}

export const VALUE_HINT =
  'JSON, as the API takes it: "Acme" (text in quotes), 42, true, or a list such as ["pro", "team"].';
const NOT_JSON =
  'Write the value as JSON: text in double quotes ("Acme"), a number (42), true or false, or a list (["a", "b"]).';

/**
 * The filter as the API takes it, or the message for its value when the text typed
 * is not JSON (nothing is sent then: the API could only guess what was meant).
 */
export function filterBody(
  draft: FilterDraft,
): { ok: true; body: { attribute: string; operator: Operator; value?: unknown } } | { ok: false; valueError: string } {
  if (takesNoValue(draft.operator)) return { ok: true, body: { attribute: draft.attribute, operator: draft.operator } };
  try {
    return { ok: true, body: { attribute: draft.attribute, operator: draft.operator, value: JSON.parse(draft.value) } };
  } catch {
    return { ok: false, valueError: NOT_JSON };
  }
}

/** Attribute, operator and value of one filter; `prefix` names them apart ("Filter 2 attribute"). */
export function FilterFields(props: {
  readonly draft: FilterDraft;
  readonly onChange: (draft: FilterDraft) => void;
  readonly prefix?: string;
  readonly errors: { readonly attribute?: string; readonly operator?: string; readonly value?: string };
}) {
  const { draft, onChange, prefix, errors } = props;
  const label = (name: string) => (prefix ? `${prefix} ${name.toLowerCase()}` : name);
  return (
    <>
      <TextField
        label={label('Attribute')}
        value={draft.attribute}
        hint="A company attribute, e.g. plan (the key as the company call sends it)."
        error={errors.attribute}
        onInput={(attribute) => onChange({ ...draft, attribute })}
      />
      <SelectField
        label={label('Operator')}
        value={draft.operator}
        options={OPERATORS}
        error={errors.operator}
        onChange={(operator) => onChange({ ...draft, operator: operator as Operator })}
      />
      {takesNoValue(draft.operator) ? null : (
        <TextAreaField
          label={label('Value')}
          rows={1}
          value={draft.value}
          hint={VALUE_HINT}
          error={errors.value}
          onInput={(value) => onChange({ ...draft, value })}
        />
      )}
    </>
  );
}

/** A filter in words, for the lists: `plan eq "pro"`. */
export function describeFilter(filter: { attribute: string; operator: string; value?: unknown }): string {
  return takesNoValue(filter.operator)
    ? `${filter.attribute} ${filter.operator}`
    : `${filter.attribute} ${filter.operator} ${JSON.stringify(filter.value)}`;
}
