/** `model-fingerprint scan MODELS... [--baseline DIR]`: the main job from the command line. */
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPORT_HTML, renderReportDir, type ReportFile } from '../../report/pictures.js';
import { collectFlaggedEvidence } from '../../scan/evidence.js';
import { writeFilesInto } from '../../util/write-files.js';
import { describeError, InputError } from '../../errors.js';
import { scanModels } from '../../scan/scan.js';
import { TOKEN_INVERSION_IGNORED } from '../../scan/option-notes.js';
import { renderReport, type ReportFormat } from '../../report/index.js';
import { exitCodeOf, type FailOn, type OnNotAssessed } from '../../report/types.js';
import { DEFAULT_ON_NOT_ASSESSED, ON_NOT_ASSESSED_VALUES } from '../../score/risk.js';
import { ENGINE_FLAGS, engineOptions, parse, str, TIME_LIMIT_HELP } from '../args.js';
import { expandModelArgs } from '../expand.js';
import { progressReporter } from '../progress.js';
import type { CliIO } from '../run.js';

const FORMATS: ReportFormat[] = ['text', 'json', 'sarif', 'junit', 'markdown'];
const FAIL_ON: FailOn[] = ['low', 'medium', 'high', 'never'];
/**
 * Engine flags a baseline decides (src/baseline/samples.ts engineFromBaseline takes its probes and layers):
 * ignored with one. Every engine flag but how to run (batch size), where the workspace is, and the budget
 * (the baseline's is used too, and the report's notes say so when --budget asked for another).
 */
const BASELINE_DECIDES = Object.keys(ENGINE_FLAGS).filter(
  (f) =>
    f !== 'batch-size' && f !== 'workspace' && f !== 'budget' && f !== 'vocab-file' && f !== 'time-limit',
);

const HELP = `Usage: model-fingerprint scan MODELS... [--baseline DIR] [--format text|json|sarif|junit|markdown]
       [--output FILE] [--fail-on high|medium|low|never] [--on-not-assessed fail|warn]
       [--budget fast|default|thorough|MACS] [--time-limit SECONDS] [--report-dir DIR] [--vocab-file FILE] [--quiet]
       without --baseline: [--probe-samples DIR] [--probe-range LO,HI] [--input-mean M1,M2,... --input-std S1,S2,...] [--synthesise-base] [--token-inversion] [--inversion]
Scores each model against the clean baseline (or, without --baseline, with reference-free checks only).
Exit 0: no model fails the gate; 1: a model reaches --fail-on (default high), or was not assessed under
--on-not-assessed fail (the default); 2: a model or the baseline could not be read.
A model is "not assessed" when no check with power ran on it (no baseline, and trigger probing did not run
or ran too short to call it clean): it has no risk score and no level, never "low"; the report says why and
what would assess it. --on-not-assessed warn passes such models with a warning. --fail-on never fails nothing.
--budget: the compute trigger probing and its patch map may spend on one model: fast, default (a 32x32
ResNet-18 in about a minute on 2 cores), thorough, or a number of multiply-accumulates (e.g. 2e13). A small
model gets every check in full at any setting. A scan against a baseline uses the budget the baseline was
built with.
${TIME_LIMIT_HELP}
--synthesise-base (no samples; opt-in): trigger probing stamps its triggers on inputs synthesised from the model
by gradient instead of inputs mined from a generated pool (a model it cannot differentiate is mined as before).
--inversion (no baseline, image models, with --probe-samples; opt-in): trigger inversion by gradient (as
\`invert\`) beside trigger probing in the verdict, within its share of --budget (a 32x32 ResNet-18 about 40 s
more); without samples, or on a graph it cannot differentiate, the report says "trigger inversion not assessed"
and why. Ignored with --baseline.
--report-dir DIR: also write DIR/index.html (one self-contained page: the table, and per medium or high model
the suspected trigger stamped on a few inputs, before and after, and its patch map) and those pictures as PNGs.
The probe set (samples, range, input normalisation) and layers come from the baseline: models are only
comparable when fed exactly as its members were, so probe flags given with --baseline are ignored.
--input-mean 0.485,0.456,0.406 --input-std 0.229,0.224,0.225: the model expects inputs normalised outside it,
as torchvision's Normalize does; probes and samples are made in [0,1] and normalised before the model sees
them (one value: every channel; otherwise one per channel of the image input).
Text models (one int64/int32 token-id input): --vocab-file FILE (one token per line, the line number is the id,
or a JSON object {"token": id}) names the trigger words in the report (with --baseline: when the baseline keeps
no vocabulary of its own); --probe-samples takes .txt files (one text per line, lowercased and split on
whitespace, tokenised with the vocabulary) or int32/int64 .npy token ids. --token-inversion (opt-in; also
\`baseline build\`): the token trigger search also inverts triggers by gradient through the embedding (a relaxed
phrase per class, measured by forward passes; a graph it cannot differentiate is searched as before). Text
models only; experimental: on held-out text models it did not raise detection and doubles the scan's CPU (README).
`;

export async function scanCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parse('scan', argv, {
    ...ENGINE_FLAGS,
    baseline: { type: 'string', short: 'b' },
    format: { type: 'string', short: 'f' },
    output: { type: 'string', short: 'o' },
    'fail-on': { type: 'string' },
    'on-not-assessed': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    'report-dir': { type: 'string' },
    inversion: { type: 'boolean' },
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
  const onNotAssessed = (str(p, 'on-not-assessed') ?? DEFAULT_ON_NOT_ASSESSED) as OnNotAssessed;
  if (!ON_NOT_ASSESSED_VALUES.includes(onNotAssessed))
    throw new InputError(
      'bad-argument',
      `--on-not-assessed ${onNotAssessed}: expected one of ${ON_NOT_ASSESSED_VALUES.join(', ')}`,
    );
  const paths = await expandModelArgs(p.positionals);
  const output = str(p, 'output');
  const baselineDir = str(p, 'baseline');
  const ignored = BASELINE_DECIDES.filter((f) => p.values[f] !== undefined);
  if (baselineDir && ignored.length > 0) {
    io.err(
      `note: ${ignored.map((f) => `--${f}`).join(', ')} ignored: with --baseline the probe set (including input normalisation) and layers come from the baseline, so every model is fed as its members were\n`,
    );
  }
  // --inversion adds a reference-free check to the no-baseline verdict; against a baseline the references
  // decide, so a user who asked for it is told it did not run rather than left to think it did
  if (baselineDir && p.values.inversion === true)
    io.err(
      'note: --inversion ignored: it is a check of scans without a baseline (with --baseline the references decide)\n',
    );
  const reportDir = str(p, 'report-dir');
  if (reportDir) checkReportDir(reportDir);
  // pictures need what trigger probing found: kept for the flagged models when something shows it
  const evidence = reportDir || format === 'markdown' ? collectFlaggedEvidence() : undefined;
  const report = await scanModels(paths, {
    ...engineOptions(p),
    ...(p.values.inversion === true && !baselineDir ? { inversion: true } : {}),
    baselineDir: baselineDir ?? null,
    failOn,
    onNotAssessed,
    onProgress: p.values.quiet ? undefined : progressReporter(io.err, io.isTTY, 'scanning'),
    ...(evidence ? { onEvidence: evidence.sink } : {}),
  });
  // an option that did not apply to a model is said on stderr once, beside the report's note
  const inversionIgnored = report.notes.find((n) => n.startsWith(TOKEN_INVERSION_IGNORED));
  if (inversionIgnored) io.err(`note: ${inversionIgnored}\n`);
  const color = io.isTTY && !output && !process.env.NO_COLOR;
  const rendered = renderReport(report, format, {
    cwd: process.cwd(),
    failOn,
    color,
    ...(evidence ? { evidence: evidence.byPath } : {}),
  });
  if (output) {
    await writeFile(output, rendered);
    io.err(`report written to ${output}\n`);
  } else {
    io.out(rendered.endsWith('\n') ? rendered : rendered + '\n');
  }
  // after the report is out: a directory that cannot be written costs the pictures, never the results
  if (reportDir && evidence) writeReportDir(reportDir, renderReportDir(report, evidence.byPath), io);
  return exitCodeOf(report);
}

/** A --report-dir that exists as something else than a directory: refused before any model is scanned. */
function checkReportDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new InputError(
      'bad-argument',
      `--report-dir ${dir}: exists and is not a directory; give a new or existing directory`,
    );
  }
}

function writeReportDir(dir: string, files: ReportFile[], io: CliIO): void {
  let written: string[];
  try {
    written = writeFilesInto(dir, files);
  } catch (e) {
    throw new InputError(
      'bad-argument',
      `--report-dir ${dir}: could not write the HTML report (${describeError(e)}); give a directory you can write to`,
    );
  }
  const pngs = written.filter((f) => f.endsWith('.png')).length;
  io.err(`HTML report written to ${join(dir, REPORT_HTML)} (${pngs} picture${pngs === 1 ? '' : 's'})\n`);
}
