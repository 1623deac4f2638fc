/** The `step` values the events export workflow sends its steps Lambda, which dispatches on them. */
export const EVENTS_EXPORT_STEPS = {
  plan: 'plan-events-export',
  assembleWeek: 'assemble-events-week',
  complete: 'complete-events-export',
  fail: 'fail-events-export',
} as const;
