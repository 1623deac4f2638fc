import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

/** Segments: lane c3 builds this page (issue 13). */
export function SegmentsPage(_props: PageProps) {
  return <PageSection title="Segments" />;
}
