/** `model-fingerprint baseline build|add|info`: make, grow and describe a clean baseline. */
import { InputError } from '../../errors.js';
import { addToBaseline, buildBaseline } from '../../baseline/build.js';
import { baselineInfo, formatBaselineInfo } from '../../baseline/info.js';
import { buildPartial, mergePartials, parseShard } from '../../baseline/shard.js';
import { NO_SAMPLES_ADVICE } from '../../baseline/samples.js';
import { ENGINE_FLAGS, engineOptions, parse, str, TIME_LIMIT_HELP } from '../args.js';
import { expandModelArgs } from '../expand.js';
import { progressReporter } from '../progress.js';
import type { CliIO } from '../run.js';

const HELP = `Usage:
  model-fingerprint baseline build MODELS... --out DIR [--probe-samples DIR] [--probes N] [--seed S] [--layers auto|L1,L2] [--probe-kinds ...]
       [--probe-range LO,HI] [--input-mean M1,M2,... --input-std S1,S2,...] [--vocab-file FILE]
       [--budget fast|default|thorough|MACS] [--time-limit SECONDS]
  model-fingerprint baseline build MODELS... --shard I/N --out PARTIAL_DIR   (one slice; then merge)
  model-fingerprint baseline merge PARTIAL_DIRS... --out DIR
  model-fingerprint baseline add DIR MODELS... [--out NEW_DIR] [--time-limit SECONDS]
  model-fingerprint baseline info DIR [--json]
MODELS are clean models of one architecture (files, directories or globs): earlier approved versions,
several training seeds, trusted public checkpoints. 20 or more is a usable start; with 63 or more the high
band is reachable by rank alone (fewer rely on the fitted tail). --probe-samples DIR (64-128 real inputs of
mixed classes) matters most for detection; the baseline keeps a copy in DIR/samples for every later scan.
--probe-range LO,HI: value range of generated probes and samples, for models that expect another range than [0,1]
(a negative LO takes an "=": --probe-range=-1,1).
--input-mean 0.485,0.456,0.406 --input-std 0.229,0.224,0.225: the model expects inputs normalised outside it,
as torchvision's Normalize does; probes and samples are made in [0,1] and normalised before the model sees
them (one value: every channel; otherwise one per channel of the image input).
--budget: the compute trigger probing and its patch map may spend on one model (fast, default, thorough, or a
number of multiply-accumulates; a small model gets every check in full at any setting). The baseline records
it, and every scan against it (and baseline add) uses the same budget: trigger features compare only so.
${TIME_LIMIT_HELP}
Text models (one int64/int32 token-id input): --probe-samples takes .txt files (one text per line, tokenised
with --vocab-file FILE: one token per line, the line number is the id, or a JSON object {"token": id}) or
int32/int64 .npy token ids; the baseline keeps a copy of the vocabulary, and reports name trigger words with it.
--token-inversion (opt-in, text models, experimental: no gain measured held out): the token trigger search also
inverts triggers by gradient through the embedding.
The baseline records these probe settings; every scan against it (and baseline add) feeds models the same way.
`;

/** Said after a build without samples (bench/results/detect.md: the largest single lever we measured). */
export const NO_SAMPLES_NOTE = `note: ${NO_SAMPLES_ADVICE} (--probe-samples DIR)\n`;

export async function baselineCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'build') {
    const p = parse('baseline build', rest, {
      ...ENGINE_FLAGS,
      out: { type: 'string', short: 'o' },
      shard: { type: 'string' },
    });
    if (p.values.help) return help(io);
    const out = str(p, 'out');
    if (!out || p.positionals.length === 0)
      throw new InputError('bad-argument', `baseline build: expected MODELS... and --out DIR\n${HELP}`);
    const paths = await expandModelArgs(p.positionals);
    const shard = str(p, 'shard');
    if (shard) {
      const r = await buildPartial(paths, parseShard(shard), {
        ...engineOptions(p),
        out,
        onProgress: progressReporter(io.err, io.isTTY, 'fingerprinting'),
      });
      io.out(
        `partial ${shard} written to ${r.dir}: ${r.members} model(s); combine with 'model-fingerprint baseline merge PARTIALS... --out DIR'\n`,
      );
      return 0;
    }
    const engine = engineOptions(p);
    const info = await buildBaseline(paths, {
      ...engine,
      out,
      onProgress: progressReporter(io.err, io.isTTY, 'fingerprinting'),
    });
    io.out(
      `baseline ${info.id} written to ${out}: ${info.members.length} members, signature ${info.signature}` +
        `${engine.probes?.samplesDir ? `; its probe samples are in ${out}/samples` : ''}\n`,
    );
    if (!engine.probes?.samplesDir) io.err(NO_SAMPLES_NOTE);
    return 0;
  }
  if (sub === 'add') {
    const p = parse('baseline add', rest, {
      workspace: { type: 'string' },
      'batch-size': { type: 'string' },
      'time-limit': { type: 'string' },
      out: { type: 'string', short: 'o' },
    });
    if (p.values.help) return help(io);
    const [dir, ...models] = p.positionals;
    if (!dir || models.length === 0)
      throw new InputError('bad-argument', `baseline add: expected DIR and MODELS...\n${HELP}`);
    const paths = await expandModelArgs(models);
    const info = await addToBaseline(dir, paths, {
      ...engineOptions(p),
      out: str(p, 'out'),
      onProgress: progressReporter(io.err, io.isTTY, 'fingerprinting'),
    });
    io.out(`baseline ${info.id} written to ${info.dir}: ${info.members.length} members\n`);
    return 0;
  }
  if (sub === 'merge') {
    const p = parse('baseline merge', rest, { out: { type: 'string', short: 'o' } });
    if (p.values.help) return help(io);
    const out = str(p, 'out');
    if (!out || p.positionals.length === 0)
      throw new InputError('bad-argument', `baseline merge: expected PARTIAL_DIRS... and --out DIR\n${HELP}`);
    const info = await mergePartials(p.positionals, out);
    io.out(
      `baseline ${info.id} written to ${out}: ${info.members.length} members from ${p.positionals.length} partial(s)\n`,
    );
    return 0;
  }
  if (sub === 'info') {
    const p = parse('baseline info', rest, { json: { type: 'boolean' } });
    if (p.values.help) return help(io);
    if (p.positionals.length !== 1)
      throw new InputError('bad-argument', `baseline info: expected DIR\n${HELP}`);
    const info = await baselineInfo(p.positionals[0]);
    io.out(p.values.json ? JSON.stringify(info, null, 2) + '\n' : formatBaselineInfo(info));
    return 0;
  }
  if (sub === '--help' || sub === '-h' || sub === undefined) return help(io, sub === undefined ? 2 : 0);
  throw new InputError('bad-argument', `baseline: unknown subcommand '${sub}' (build, add, merge, info)`);
}

function help(io: CliIO, code = 0): number {
  io.out(HELP);
  return code;
}
