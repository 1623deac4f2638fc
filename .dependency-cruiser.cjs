// The architecture's import rules (DESIGN.md "Layout", its arrows), checked by
// `npm run lint` over bin/, lib/ and lambdas/ and by test/architecture/boundaries.test.ts,
// which also shows each rule failing on a deliberate violation (test/architecture/fixtures/).
//
// Paths are matched relative to the cruise's base directory; npm packages are matched
// without a leading `^` because a fixture tree resolves them from the repository's
// node_modules, a few directories up.

/** What makes code depend on AWS, Lambda, middy or a local stand-in: never in the product or the workflow specs. */
const INFRASTRUCTURE_PACKAGES =
  'node_modules/(@aws-sdk|@smithy|@types/aws-lambda|aws-lambda|@middy|@duckdb|aws-local-stepfunctions|dynalite|s3rver)/';

/** The handler files every handler may import: they are plumbing, not Lambdas. */
const HANDLER_PLUMBING = '^lambdas/handlers/(http|aws-deps|workflow-steps)[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter and hides which module is the lower layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-only-contract',
      severity: 'error',
      comment:
        'lib/ (CDK) takes of lambdas/ only what both sides must agree on: lambdas/contract/. ' +
        'Anything built from the product (SQL, ASL documents) reaches lib as props from bin/app.ts.',
      from: { path: '^lib/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/contract/' },
    },
    {
      name: 'core-no-infrastructure',
      severity: 'error',
      comment: 'lambdas/core/ is the product: no AWS SDK, Lambda types, middy, DuckDB or local stand-ins.',
      from: { path: '^lambdas/core/' },
      to: { path: INFRASTRUCTURE_PACKAGES },
    },
    {
      name: 'core-only-inward',
      severity: 'error',
      comment:
        'lambdas/core/ imports ports and contract, never adapters, handlers, workflows, the config ' +
        'that reads process.env, or the CDK constructs.',
      from: { path: '^lambdas/core/' },
      to: { path: '^(lambdas/(adapters|handlers|workflows)/|lambdas/config[.]ts$|lib/)' },
    },
    {
      name: 'ports-type-only',
      severity: 'error',
      comment: 'lambdas/ports/ holds interfaces: every import is `import type`, so a port brings in no code.',
      from: { path: '^lambdas/ports/' },
      to: { dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'ports-only-inward',
      severity: 'error',
      comment:
        "A port speaks in the domain's types (core, contract, other ports) and Node's own " +
        '(a Readable body); nothing else.',
      from: { path: '^lambdas/ports/' },
      to: { pathNot: '^lambdas/(core|contract|ports)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'contract-self-contained',
      severity: 'error',
      comment: 'lambdas/contract/ is what lib/ and lambdas/ agree on; it depends on nothing of either.',
      from: { path: '^lambdas/contract/' },
      to: { path: '^(lambdas/|lib/)', pathNot: '^lambdas/contract/' },
    },
    {
      name: 'workflows-only-core-and-contract',
      severity: 'error',
      comment:
        'lambdas/workflows/ builds ASL documents and query texts from core and contract: ' +
        'bin/app.ts hands them to lib/, so they must not pull in adapters, handlers or SDKs.',
      from: { path: '^lambdas/workflows/' },
      to: { path: '^(lambdas/|lib/)', pathNot: '^lambdas/(workflows|core|contract)/' },
    },
    {
      name: 'workflows-no-infrastructure',
      severity: 'error',
      comment: 'A workflow spec is data (JSON documents, SQL text): no SDK, Lambda types or DuckDB.',
      from: { path: '^lambdas/workflows/' },
      to: { path: INFRASTRUCTURE_PACKAGES },
    },
    {
      name: 'handler-not-to-handler',
      severity: 'error',
      comment:
        'One file per Lambda: a handler never imports another one (a shared piece belongs in core, ' +
        'or in the plumbing: http.ts, aws-deps.ts, workflow-steps.ts).',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lambdas/handlers/', pathNot: HANDLER_PLUMBING },
    },
    {
      name: 'aws-adapters-only-through-aws-deps',
      severity: 'error',
      comment:
        'Handlers get their AWS adapters from aws-deps.ts, which builds each once per Lambda instance ' +
        'with one set of client options. (bin/ and tests compose adapters themselves.)',
      from: { path: '^lambdas/', pathNot: '^lambdas/(handlers/aws-deps[.]ts$|adapters/aws/)' },
      to: { path: '^lambdas/adapters/aws/' },
    },
    {
      name: 'handlers-no-local-adapters',
      severity: 'error',
      comment: 'Local adapters stand in for AWS in the local stack; bin/local composes them, no Lambda does.',
      from: { path: '^lambdas/handlers/' },
      to: { path: '^lambdas/adapters/local/' },
    },
    {
      name: 'adapters-only-inward',
      severity: 'error',
      comment:
        'An adapter implements a port: it imports ports, contract and core (the domain types and ' +
        'pure rules its port speaks in), never handlers, workflow specs, the config or the CDK constructs.',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^(lambdas/(handlers|workflows)/|lambdas/config[.]ts$|lib/)' },
    },
    {
      name: 'nothing-imports-bin-or-test',
      severity: 'error',
      comment: 'bin/ composes and test/ checks: the Lambdas and the CDK constructs never depend on either.',
      from: { path: '^(lambdas|lib)/' },
      to: { path: '^(bin|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` must stay visible: the ports rule is about them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
