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

/** What a labelled control shows around it: its label, a hint, and the message beside it. */
export interface Described {
  readonly label: string;
  readonly hint?: string | undefined;
  readonly error?: string | undefined;
}

/**
 * The ids and the wrapper that tie a control to its label, hint and error
 * (aria-describedby, aria-invalid), the same for every kind of control.
 */
export function useDescribed(props: Described) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  const wrap = (control: ComponentChildren) => (
    <div class={props.error ? 'field field-invalid' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {control}
      {props.error ? (
        <p class="field-error" id={errorId}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
  return { id, hintId, errorId, describedBy, wrap, invalid: props.error ? ('true' as const) : undefined };
}

/** A labelled input whose error message is announced with it. */
export function TextField(props: TextFieldProps) {
  const { id, describedBy, wrap, invalid } = useDescribed(props);
  return wrap(
    <input
      id={id}
      name={props.name}
      type={props.type ?? 'text'}
      value={props.value}
      required={props.required}
      autoComplete={props.autoComplete}
      aria-invalid={invalid}
      aria-describedby={describedBy}
      onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
    />,
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
  const { id, describedBy, wrap, invalid } = useDescribed(props);
  return wrap(
    <select
      id={id}
      name={props.name}
      value={props.value}
      aria-invalid={invalid}
      aria-describedby={describedBy}
      onChange={(event) => props.onChange((event.currentTarget as HTMLSelectElement).value)}
    >
      {props.options.map((option) => (
        <option key={option.value} value={option.value}>
          {option.label}
        </option>
      ))}
    </select>,
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
