import { useEffect, useRef } from 'preact/hooks';

/** Asks before a delete, in the page (no browser dialog), with focus on the question's "Cancel". */
export function ConfirmDelete(props: {
  readonly what: string;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  return (
    <div class="confirm" role="alertdialog" aria-labelledby="confirm-delete-question">
      <p id="confirm-delete-question">Delete {props.what}? This cannot be undone.</p>
      <div class="form-actions">
        <button type="button" onClick={props.onConfirm}>
          Yes, delete
        </button>
        <button type="button" class="secondary" ref={cancel} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
