/** `model-fingerprint inspect MODEL [--json]`: what the reader sees in a model. */
import { InputError } from '../../errors.js';
import { inspectModel, formatInspect } from '../../model/inspect.js';
import { parse } from '../args.js';
import type { CliIO } from '../run.js';

const HELP = `Usage: model-fingerprint inspect MODEL [--json]
Lists the model's inputs (name, dtype, shape), outputs, layers (name, op, shape), opsets, size and sha256.
`;

export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parse('inspect', argv, { json: { type: 'boolean' } });
  if (p.values.help) {
    io.out(HELP);
    return 0;
  }
  if (p.positionals.length !== 1)
    throw new InputError('bad-argument', `inspect: expected one MODEL\n${HELP}`);
  const result = await inspectModel(p.positionals[0]);
  io.out(p.values.json ? JSON.stringify(result, null, 2) + '\n' : formatInspect(result));
  return 0;
}
