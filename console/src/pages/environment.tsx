import { PageSection } from '../components.tsx';
import type { PageProps } from '../context.ts';

const PLAN_NAMES = { free: 'Free', pro: 'Pro', enterprise: 'Enterprise' } as const;

/** Environment (seed 002's "Environment Page"): the environment's name, plan and public keys. */
export function EnvironmentPage({ environment }: PageProps) {
  return (
    <PageSection title="Environment">
      <dl class="facts">
        <dt>Name</dt>
        <dd>{environment.name}</dd>
        <dt>Plan</dt>
        <dd>{PLAN_NAMES[environment.plan]}</dd>
        <dt>Environment ID</dt>
        <dd>
          <code>{environment.environment_id}</code>
        </dd>
        <dt>App token</dt>
        <dd>
          <code>{environment.app_token}</code>
        </dd>
        <dt>Tracking key</dt>
        <dd>
          <code>{environment.tracking_key}</code>
        </dd>
      </dl>
    </PageSection>
  );
}
