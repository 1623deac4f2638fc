import type { ComponentType } from 'preact';
import type { PageProps } from '../context.ts';
import { DataExportPage } from './data-export.tsx';
import { EnvironmentPage } from './environment.tsx';
import { FeaturesPage } from './features.tsx';
import { RawEventExportsPage } from './raw-event-exports.tsx';
import { SegmentsPage } from './segments.tsx';
import { TrackingPage } from './tracking.tsx';

/**
 * The pages under "Settings → Environment: <name>", in nav order. Each lives in its
 * own file; a page is reached at `#/environments/<environment_id>/<slug>`.
 */
export interface ConsolePage {
  /** The URL segment after the environment id. */
  readonly slug: string;
  /** The nav link's text and the page's heading. */
  readonly title: string;
  readonly component: ComponentType<PageProps>;
}

export const PAGES: readonly ConsolePage[] = [
  { slug: 'environment', title: 'Environment', component: EnvironmentPage },
  { slug: 'data-export', title: 'Data export', component: DataExportPage },
  { slug: 'tracking', title: 'Tracking', component: TrackingPage },
  { slug: 'features', title: 'Features', component: FeaturesPage },
  { slug: 'segments', title: 'Segments', component: SegmentsPage },
  { slug: 'raw-event-exports', title: 'Raw-event exports', component: RawEventExportsPage },
];

/** The environment's page at `slug`, or its first page. */
export const environmentPath = (environmentId: string, slug: string = PAGES[0]?.slug ?? 'environment'): string =>
  `/environments/${encodeURIComponent(environmentId)}/${slug}`;
