/** `model-fingerprint fingerprint MODEL --out FILE`: one model's fingerprint, written in the documented format. */
import { InputError } from '../../errors.js';
import { fingerprintFile } from '../../scan/engine.js';
import { writeFingerprint } from '../../fingerprint/format.js';
import { ENGINE_FLAGS, engineOptions, parse, str, TIME_LIMIT_HELP } from '../args.js';
import type { CliIO } from '../run.js';

const HELP = `Usage: model-fingerprint fingerprint MODEL --out FILE [--probes N] [--seed S] [--layers auto|L1,L2]
       [--probe-kinds K1,K2] [--probe-range LO,HI] [--probe-samples DIR] [--dim NAME=SIZE] [--vocab N] [--vocab-file FILE] [--batch-size N]
       [--input-mean M1,M2,... --input-std S1,S2,...] [--budget fast|default|thorough|MACS] [--time-limit SECONDS]
Runs the model on the seeded probes and writes its fingerprint (docs/format.md).
--input-mean 0.485,0.456,0.406 --input-std 0.229,0.224,0.225: the model expects inputs normalised outside it,
as torchvision's Normalize does; probes and samples are made in [0,1] and normalised before the model sees
them (one value: every channel; otherwise one per channel of the image input).
${TIME_LIMIT_HELP}
`;

export async function fingerprintCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parse('fingerprint', argv, { ...ENGINE_FLAGS, out: { type: 'string', short: 'o' } });
  if (p.values.help) {
    io.out(HELP);
    return 0;
  }
  const out = str(p, 'out');
  if (p.positionals.length !== 1 || !out)
    throw new InputError('bad-argument', `fingerprint: expected MODEL and --out FILE\n${HELP}`);
  const { fingerprint } = await fingerprintFile(p.positionals[0], engineOptions(p));
  await writeFingerprint(out, fingerprint);
  const blocks = Object.entries(fingerprint.blocks)
    .map(([k, v]) => `${k}(${v.length})`)
    .join(', ');
  io.out(
    `${p.positionals[0]}: fingerprint written to ${out} (probe set ${fingerprint.header.probes.hash.slice(0, 12)}; ${blocks})\n`,
  );
  return 0;
}
