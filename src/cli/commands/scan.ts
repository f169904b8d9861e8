/** `model-fingerprint scan MODELS... [--baseline DIR]`: the main job from the command line. */
import { writeFile } from 'node:fs/promises';
import { InputError } from '../../errors.js';
import { scanModels } from '../../scan/scan.js';
import { renderReport, type ReportFormat } from '../../report/index.js';
import { exitCodeOf, type FailOn } from '../../report/types.js';
import { ENGINE_FLAGS, engineOptions, parse, str } from '../args.js';
import { expandModelArgs } from '../expand.js';
import { progressReporter } from '../progress.js';
import type { CliIO } from '../run.js';

const FORMATS: ReportFormat[] = ['text', 'json', 'sarif', 'junit', 'markdown'];
const FAIL_ON: FailOn[] = ['low', 'medium', 'high', 'never'];
/**
 * Engine flags a baseline decides (src/baseline/samples.ts engineFromBaseline takes its probes and layers):
 * ignored with one. Every engine flag but how to run (batch size) and where the workspace is.
 */
const BASELINE_DECIDES = Object.keys(ENGINE_FLAGS).filter(
  (f) => f !== 'batch-size' && f !== 'workspace' && f !== 'vocab-file',
);

const HELP = `Usage: model-fingerprint scan MODELS... [--baseline DIR] [--format text|json|sarif|junit|markdown]
       [--output FILE] [--fail-on high|medium|low|never] [--quiet]
       [--vocab-file FILE]
       without --baseline: [--probe-samples DIR] [--probe-range LO,HI] [--input-mean M1,M2,... --input-std S1,S2,...]
Scores each model against the clean baseline (or, without --baseline, with reference-free checks only).
Exit 0: no model reaches --fail-on (default high); 1: at least one does; 2: a model or the baseline could not be read.
The probe set (samples, range, input normalisation) and layers come from the baseline: models are only
comparable when fed exactly as its members were, so probe flags given with --baseline are ignored.
--input-mean 0.485,0.456,0.406 --input-std 0.229,0.224,0.225: the model expects inputs normalised outside it,
as torchvision's Normalize does; probes and samples are made in [0,1] and normalised before the model sees
them (one value: every channel; otherwise one per channel of the image input).
Text models (one int64/int32 token-id input): --vocab-file FILE (one token per line, the line number is the id,
or a JSON object {"token": id}) names the trigger words in the report (with --baseline: when the baseline keeps
no vocabulary of its own); --probe-samples takes .txt files (one text per line, lowercased and split on
whitespace, tokenised with the vocabulary) or int32/int64 .npy token ids.
`;

export async function scanCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parse('scan', argv, {
    ...ENGINE_FLAGS,
    baseline: { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    'fail-on': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (p.values.help) {
    io.out(HELP);
    return 0;
  }
  if (p.positionals.length === 0) throw new InputError('bad-argument', `scan: no MODELS given\n${HELP}`);
  const format = (str(p, 'format') ?? 'text') as ReportFormat;
  if (!FORMATS.includes(format))
    throw new InputError('bad-argument', `--format ${format}: expected one of ${FORMATS.join(', ')}`);
  const failOn = (str(p, 'fail-on') ?? 'high') as FailOn;
  if (!FAIL_ON.includes(failOn))
    throw new InputError('bad-argument', `--fail-on ${failOn}: expected one of ${FAIL_ON.join(', ')}`);
  const paths = await expandModelArgs(p.positionals);
  const output = str(p, 'output');
  const baselineDir = str(p, 'baseline');
  const ignored = BASELINE_DECIDES.filter((f) => p.values[f] !== undefined);
  if (baselineDir && ignored.length > 0) {
    io.err(
      `note: ${ignored.map((f) => `--${f}`).join(', ')} ignored: with --baseline the probe set (including input normalisation) and layers come from the baseline, so every model is fed as its members were\n`,
    );
  }
  const report = await scanModels(paths, {
    ...engineOptions(p),
    baselineDir: baselineDir ?? null,
    failOn,
    onProgress: p.values.quiet ? undefined : progressReporter(io.err, io.isTTY, 'scanning'),
  });
  const color = io.isTTY && !output && !process.env.NO_COLOR;
  const rendered = renderReport(report, format, { cwd: process.cwd(), failOn, color });
  if (output) {
    await writeFile(output, rendered);
    io.err(`report written to ${output}\n`);
  } else {
    io.out(rendered.endsWith('\n') ? rendered : rendered + '\n');
  }
  return exitCodeOf(report);
}
