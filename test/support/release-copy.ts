// A second "release" of Almanac for fault injection: a copy of the sources (with the node_modules of
// this checkout) whose version and minimum schema can be changed, the way an operator's deploy puts
// new code at the path the supervisor starts its workers from. Nothing in src/ knows about it.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ReleaseCopy {
  /** The copy's CLI entry (runs its sources). */
  readonly entry: string;
  /** Rewrites the copy's package.json version: the next worker started from it is that release. */
  setVersion(version: string): void;
  /** Makes the copy's code need a newer schema than any database has (it cannot serve on it). */
  requireSchema(version: number): void;
  remove(): void;
}

export function copyRelease(): ReleaseCopy {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-release-'));
  cpSync(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'test', 'support'), { recursive: true });
  cpSync(join(ROOT, 'test', 'support', 'cli-entry.ts'), join(dir, 'test', 'support', 'cli-entry.ts'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const packageFile = join(dir, 'package.json');
  const migrations = join(dir, 'src', 'store', 'sqlite', 'migrations', 'index.ts');
  return {
    entry: join(dir, 'test', 'support', 'cli-entry.ts'),
    setVersion(version) {
      const pkg = JSON.parse(readFileSync(packageFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(packageFile, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
    },
    requireSchema(version) {
      const text = readFileSync(migrations, 'utf8');
      const changed = text.replace(/export const MINIMUM_SCHEMA_VERSION = \d+;/u, `export const MINIMUM_SCHEMA_VERSION = ${version};`);
      if (changed === text) throw new Error('MINIMUM_SCHEMA_VERSION not found in the copy');
      writeFileSync(migrations, changed);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
