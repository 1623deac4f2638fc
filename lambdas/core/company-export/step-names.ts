/** The `step` values the company export workflow sends its steps Lambda, which dispatches on them. */
export const EXPORT_STEPS = {
  prepareCompanyExport: 'prepare-company-export',
  publishCompanyExport: 'publish-company-export',
  failCompanyExport: 'fail-company-export',
  deliverCompanyExport: 'deliver-company-export',
} as const;
