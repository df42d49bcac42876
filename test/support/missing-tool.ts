/**
 * A suite whose tool (a browser, openssl, sqlmap…) is missing: outside CI it is skipped with a
 * loud line saying what and why; under CI=true it fails, so no suite can silently stop running.
 */
export function missingTool(ctx: Mocha.Context, what: string): never {
  if (process.env.CI === 'true') throw new Error(`${what}: required under CI=true`);
  console.warn(`\n*** SKIPPED: ${what}. CI=true makes this a failure. ***\n`);
  ctx.skip();
  throw new Error('unreachable: mocha skip() throws');
}
