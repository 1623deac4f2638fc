import { type Described, useDescribed } from '../../components.tsx';

/**
 * Form controls of the catalog pages that console/src/components.tsx has no
 * counterpart for (a select, a multi-line text, a checkbox, a read-only value),
 * each labelled and tied to its error message the way TextField is (selects are components.tsx's SelectField).
 */

export function TextAreaField(
  props: Described & { readonly value: string; readonly rows?: number; readonly onInput: (value: string) => void },
) {
  const { id, describedBy, wrap, invalid } = useDescribed(props);
  return wrap(
    <textarea
      id={id}
      rows={props.rows ?? 3}
      value={props.value}
      aria-invalid={invalid}
      aria-describedby={describedBy}
      onInput={(event) => props.onInput((event.currentTarget as HTMLTextAreaElement).value)}
    />,
  );
}

export function CheckboxField(
  props: Described & { readonly checked: boolean; readonly onChange: (checked: boolean) => void },
) {
  // The label follows the box here, so the ids come from useDescribed but not its wrapper.
  const { id, hintId, errorId, describedBy, invalid } = useDescribed(props);
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <div>
        <input
          id={id}
          type="checkbox"
          checked={props.checked}
          aria-invalid={invalid}
          aria-describedby={describedBy}
          onChange={(event) => props.onChange((event.currentTarget as HTMLInputElement).checked)}
        />{' '}
        <label for={id}>{props.label}</label>
      </div>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * The messages of a 400 that belong to one input: its own field (`name`) and any
 * path under it (`event_names[2]`, `adoption.window_days` for `adoption`).
 */
export function errorFor(fields: Readonly<Record<string, string>>, field: string): string | undefined {
  const messages: string[] = [];
  for (const [path, message] of Object.entries(fields)) {
    if (path === field) messages.push(message);
    else if (path.startsWith(`${field}[`) || path.startsWith(`${field}.`)) {
      const rest = path.slice(field.length);
      const item = /^\[(\d+)\]$/.exec(rest);
      messages.push(item ? `Item ${Number(item[1]) + 1}: ${message}` : `${rest.replace(/^\./, '')}: ${message}`);
    }
  }
  return messages.length > 0 ? messages.join(' ') : undefined;
}

/** The 400's messages that no input of the form shows, so that none is lost. */
export function otherErrors(fields: Readonly<Record<string, string>>, shown: readonly string[]): string[] {
  return Object.entries(fields)
    .filter(
      ([path]) =>
        !shown.some((field) => path === field || path.startsWith(`${field}[`) || path.startsWith(`${field}.`)),
    )
    .map(([path, message]) => `${path}: ${message}`);
}
