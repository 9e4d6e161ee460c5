// Runs the almanac CLI from the TypeScript sources, so tests drive the real command without a build.
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv);
