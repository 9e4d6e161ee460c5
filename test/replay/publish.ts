// `npx node test/replay/publish.ts`: replays every client lifecycle against real server processes and
// writes docs/compatibility.md; exits 1 when a step fails outside the known gaps (the page is still written).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCompatibility, runAll } from './compatibility.ts';

const target = fileURLToPath(new URL('../../docs/compatibility.md', import.meta.url));
const runs = await runAll();
mkdirSync(fileURLToPath(new URL('../../docs/', import.meta.url)), { recursive: true });
writeFileSync(target, renderCompatibility(runs, new Date()));

let failing = 0;
for (const run of runs) {
  const failed = run.results.filter((r) => !r.ok && r.step.gap === undefined);
  failing += failed.length;
  const gaps = run.results.filter((r) => !r.ok && r.step.gap !== undefined).length;
  console.log(`${run.lifecycle.name}: ${run.results.filter((r) => r.ok).length}/${run.results.length} passed${gaps > 0 ? `, ${gaps} known gap(s)` : ''}`);
  for (const result of failed) console.log(`  FAIL ${result.step.title}: ${result.error ?? ''}`);
}
console.log(`wrote ${target}`);
process.exitCode = failing > 0 ? 1 : 0;
