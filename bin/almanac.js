#!/usr/bin/env node
// The `almanac` executable: makes sure the CLI runs on Node 24 (re-running itself with the Node the
// project installs when an older one started it), then hands over to the compiled dist/cli/main.js.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

// Calendar arithmetic must not depend on the host's zone (floating times are resolved explicitly).
process.env.TZ = 'UTC';

const major = Number(process.versions.node.split('.')[0]);

if (major < 24) {
  let node;
  try {
    node = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    process.stderr.write(`almanac: needs Node 24 or newer (this is ${process.version}); run \`npm ci\` to install the bundled one\n`);
    process.exit(1);
  }
  // Ctrl-C reaches the child too (same process group); staying alive lets it drain and report.
  process.on('SIGINT', () => {});
  const child = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (child.error) {
    process.stderr.write(`almanac: cannot run ${node}: ${child.error.message}\n`);
    process.exit(1);
  }
  process.exit(child.signal ? 128 + (constants.signals[child.signal] ?? 0) : (child.status ?? 1));
} else if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  process.stderr.write('almanac: not built yet; run `npm ci` (or `npm run build`) in the Almanac folder\n');
  process.exit(1);
} else {
  const { main } = await import('../dist/cli/main.js');
  // exitCode rather than exit(), so output still buffered for a pipe is written first.
  process.exitCode = await main(process.argv);
}
