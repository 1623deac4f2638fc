import { useState } from 'preact/hooks';

/**
 * "Copy" for a key or a snippet: writes `text` to the clipboard and says so, in the
 * button and through the console's status region. Where the clipboard is refused
 * (an insecure origin, a denied permission) it says how to copy by hand instead.
 */
export function CopyButton(props: {
  readonly text: string;
  /** The accessible name, e.g. "Copy the tracking key". */
  readonly label: string;
  readonly announce: (message: string) => void;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied(true);
      props.announce('Copied to the clipboard.');
      setTimeout(() => setCopied(false), 2000);
    } catch {
      props.announce('The browser refused the clipboard: select the text and copy it with Ctrl+C (⌘C).');
    }
  };
  return (
    <button type="button" class="secondary" aria-label={props.label} onClick={() => void copy()}>
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}
