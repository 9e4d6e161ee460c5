// The almanac CLI run in this process, as tests drive it: arguments after `almanac`, output collected,
// no terminal and an empty environment.
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function cli(args: readonly string[], isTTY = false): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'almanac', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY, env: {} });
  return { code, stdout, stderr };
}
