import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

/** Data export: lane c2 builds this page (issue 13). */
export function DataExportPage(_props: PageProps) {
  return <PageSection title="Data export" />;
}
