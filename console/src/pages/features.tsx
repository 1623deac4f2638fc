import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

/** Features: lane c3 builds this page (issue 13). */
export function FeaturesPage(_props: PageProps) {
  return <PageSection title="Features" />;
}
