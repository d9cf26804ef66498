// Module hooks for running sluice from its TypeScript sources (the repository, not the installed
// package): every resolution also matches the `sluice-source` export condition, so that a job that
// imports `sluice` or `sluice/sinks/mongo` by name gets api/*.ts, not dist/ (which a clone has not
// built). bin/sluice.js and worker-bootstrap.mjs register it only when the sources are there.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('sluice-source') ? context.conditions : [...context.conditions, 'sluice-source'];
  return nextResolve(specifier, { ...context, conditions });
}
