import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

/**
 * What components.tsx has no twin for: any control (the automatic export's switch)
 * with the API's error below it, tied to it by aria-describedby (a screen reader
 * reads the error with the field; the tests find it the same way).
 */

/** A control with its error below it, the error tied to the control by aria-describedby. */
export function Field(props: {
  error: string | undefined;
  children: (describedBy: string | undefined) => ComponentChildren;
}) {
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
