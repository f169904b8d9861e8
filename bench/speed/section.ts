/**
 * Child-process entry of the speed benchmark: runs ONE section (so its peak memory is its own) and prints
 * its result as the last stdout line. Usage: node --import tsx bench/speed/section.ts NAME [flags].
 */
import { argValue, emitResult } from './common.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  const cache = argValue(argv, 'cache', 'bench/.cache/speed');
  const runs = Number(argValue(argv, 'runs', '5'));
  switch (name) {
    case 'fingerprint': {
      const { runFingerprint } = await import('./fingerprint.js');
      emitResult(await runFingerprint(runs, cache));
      return;
    }
    case 'scoring': {
      const { runScoring } = await import('./scoring.js');
      const refs = Number(argValue(argv, 'refs', '1000'));
      const dims = Number(argValue(argv, 'dims', '16384'));
      const set = argValue(argv, 'set', 'default');
      emitResult(await runScoring(refs, dims, set === 'default' ? 'default' : 'sklearn-set'));
      return;
    }
    case 'realsize': {
      const { runRealSize } = await import('./realsize.js');
      const list = (name: string, dflt: string) => argValue(argv, name, dflt).split(',').filter(Boolean);
      emitResult(
        await runRealSize(cache, {
          models: list('models', 'example-mlp,zoo-cnn,resnet-style,resnet18-32,resnet18-224,mobilenetv2-224'),
          budgets: list('budgets', 'fast,default'),
          smallBudgets: list('small-budgets', 'default'),
        }),
      );
      return;
    }
    case 'merge': {
      const { runMerge } = await import('./merge.js');
      emitResult(
        await runMerge(
          Number(argValue(argv, 'models', '10000')),
          Number(argValue(argv, 'dims', '4096')),
          cache,
        ),
      );
      return;
    }
    default:
      throw new Error(`unknown section "${name}"`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(2);
});
