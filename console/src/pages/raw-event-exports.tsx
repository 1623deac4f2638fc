import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

/** Raw-event exports: lane c2 builds this page (issue 13). */
export function RawEventExportsPage(_props: PageProps) {
  return <PageSection title="Raw-event exports" />;
}
