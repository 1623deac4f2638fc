import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

/** Tracking: lane c3 builds this page (issue 13). */
export function TrackingPage(_props: PageProps) {
  return <PageSection title="Tracking" />;
}
