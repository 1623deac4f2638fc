import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { Problem } from './api/problems.ts';

/**
 * Small pieces every page uses, so that each control is labelled, each error is
 * tied to what caused it (aria-describedby, aria-invalid) and retryable failures
 * offer "Try again" the same way everywhere.
 */

/** A failure shown as an alert; with "Try again" when retrying may help. */
export function ProblemNotice(props: { readonly problem: Problem | undefined; readonly onRetry?: () => void }) {
  const { problem, onRetry } = props;
  if (!problem) return null;
  return (
    <div class="notice notice-error" role="alert">
      <p>{problem.message}</p>
      {problem.retryable && onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export interface TextFieldProps {
  readonly label: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  /** The message beside the field (e.g. `problem.fields.name`). */
  readonly error?: string | undefined;
  readonly hint?: string;
  readonly type?: 'text' | 'password' | 'email' | 'url' | 'date' | 'datetime-local' | 'number';
  readonly name?: string;
  readonly required?: boolean;
  readonly autoComplete?: string;
}

/** A labelled input whose error message is announced with it. */
export function TextField(props: TextFieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        required={props.required}
        autoComplete={props.autoComplete}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      {props.error ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * "Copy" next to a value: its accessible name says what it copies ("Copy tracking
 * key"), and the status region says that it did.
 */
export function CopyButton(props: {
  readonly text: string;
  readonly what: string;
  readonly announce: (m: string) => void;
}) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      props.announce(`Copied the ${props.what}.`);
    } catch {
      props.announce(`The ${props.what} could not be copied: select it and copy it by hand.`);
    }
  };
  return (
    <button type="button" class="secondary small" aria-label={`Copy ${props.what}`} onClick={copy}>
      Copy
    </button>
  );
}

export interface SelectFieldProps {
  readonly label: string;
  readonly value: string;
  readonly options: readonly { readonly value: string; readonly label: string }[];
  readonly onChange: (value: string) => void;
  readonly error?: string | undefined;
  readonly name?: string;
}

/** A labelled select whose error message is announced with it. */
export function SelectField(props: SelectFieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? errorId : undefined}
        onChange={(event) => props.onChange((event.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {props.error ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** A page's heading and body, the same on every page. */
export function PageSection(props: { readonly title: string; readonly children?: ComponentChildren }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{props.title}</h1>
      {props.children}
    </section>
  );
}
