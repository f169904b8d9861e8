/**
 * `model-fingerprint invert MODEL`: trigger inversion by optimisation (src/selfcheck/trigger-inversion.ts),
 * opt-in and outside the scan's default score (`scan --inversion` adds it to the no-baseline verdict):
 * bench/results/inversion.md and realsize-inversion.md measured it against the menu trigger search.
 * Prints the class whose inverted trigger mask is smallest, the mask's size and place, how many held-out
 * inputs it flips and its anomaly index, or "not assessed" with the reason. Exit 0 (a report,
 * not a gate), 2 on errors.
 */
import { InputError } from '../../errors.js';
import { inversionForProbes } from '../../fingerprint/inversion-check.js';
import { readModel } from '../../model/read.js';
import { ModelRunner } from '../../model/session.js';
import { generateProbes } from '../../probes/generate.js';
import { probeSpecOf } from '../../scan/engine.js';
import { assertInsideWorkspace } from '../../scan/workspace.js';
import { ENGINE_FLAGS, engineOptions, parse } from '../args.js';
import type { CliIO } from '../run.js';

const HELP = `Usage: model-fingerprint invert MODEL [--probe-samples DIR] [--seed S] [--probe-range LO,HI]
       [--input-mean M1,M2,... --input-std S1,S2,...] [--budget fast|default|thorough|MACS] [--json]
Trigger inversion by optimisation (Neural Cleanse with a K-Arm schedule), reference-free: per class, the
smallest mask and pattern that send the inputs (your samples, else inputs mined from the model) to that
class; printed: the class with the smallest mask, its size and place, and how many held-out inputs it
flips. A backdoor trigger is a small mask that flips most inputs, but small clean models have small masks
too: it is a lead to inspect, not a verdict, and part of \`scan\`'s risk score only with \`scan --inversion\`
(opt-in; bench/results/inversion.md and realsize-inversion.md measured it against the trigger search).
--budget (default: default) sets the compute it may spend, as scan's: as many multiply-accumulates as the
setting gives trigger probing, so a large model gets more gradient steps at thorough and fewer at fast; a
small model runs its full steps at every setting. The result is the same on every machine.
`;

export async function invertCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parse('invert', argv, { ...ENGINE_FLAGS, json: { type: 'boolean' } });
  if (p.values.help) {
    io.out(HELP);
    return 0;
  }
  if (p.positionals.length !== 1) throw new InputError('bad-argument', `invert: expected one MODEL\n${HELP}`);
  const opts = engineOptions(p);
  const file = p.positionals[0];
  assertInsideWorkspace(file, opts.workspace);
  const model = await readModel(file);
  const probes = generateProbes(model.inputs, probeSpecOf(opts), { file: model.path });
  const classes = await classCount(model, probes);
  const r = await inversionForProbes(model, probes, classes, opts.budget ? { budget: opts.budget } : {});
  const result = r ?? {
    assessed: false,
    detail: 'not assessed: trigger inversion needs one float image input and 3+ classes',
  };
  io.out(
    p.values.json
      ? JSON.stringify({ model: file, ...result }, null, 2) + '\n'
      : `${file}: ${result.detail}${result.basis ? ` (inputs: ${result.basis})` : ''}${'budget' in result && result.budget ? `; ${result.budget}` : ''}\n`,
  );
  return 0;
}

/** Classes of the first output: its declared last dimension, else one probe's logits. */
async function classCount(
  model: Awaited<ReturnType<typeof readModel>>,
  probes: ReturnType<typeof generateProbes>,
): Promise<number> {
  const last = model.outputs[0]?.shape.at(-1);
  if (typeof last === 'number' && last > 0) return last;
  const runner = await ModelRunner.open(model);
  try {
    const run = await runner.run(probes, {});
    const out = run.tensors.get(model.outputs[0].name);
    return out && out.perProbe ? out.data.length / probes.count : 0;
  } finally {
    await runner.release();
  }
}
