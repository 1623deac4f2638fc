import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/**
 * The export pages' controls that components.tsx (TextField) has no twin for: a
 * labelled select, and any control with the API's error below it, tied to it by
 * aria-describedby (a screen reader reads the error with the field; the tests find
 * it the same way).
 */

export /** A control with its error below it, the error tied to the control by aria-describedby. */
function Field(props: { error: string | undefined; children: (describedBy: string | undefined) => ComponentChildren }) {
  const errorId = useId();
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      {props.children(props.error ? errorId : undefined)}
      {props.error && (
        <p id={errorId} class="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}

export function Select(props: {
  name: string;
  label: string;
  value: string;
  error: string | undefined;
  options: readonly (readonly [string, string])[];
  onChange: (value: string) => void;
}) {
  const id = useId();
  const errorId = useId();
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(event) => props.onChange(event.currentTarget.value)}
      >
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      {props.error && (
        <p id={errorId} class="field-error">
          {props.error}
        </p>
      )}
    </div>
  );
}
