/**
 * Command dispatch and error-to-exit-code mapping, separate from main.ts so tests can call it in-process.
 */
import { describeError, isInputError } from '../errors.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { inspectCommand } from './commands/inspect.js';
import { fingerprintCommand } from './commands/fingerprint.js';
import { scanCommand } from './commands/scan.js';
import { baselineCommand } from './commands/baseline.js';
import { invertCommand } from './commands/invert.js';
import { safeErrorLine } from '../scan/safe-error.js';

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
};

export const USAGE = `${TOOL_NAME} ${TOOL_VERSION}: catch backdoored ML models by behavioural fingerprinting

Usage:
  ${TOOL_NAME} scan MODELS... [--baseline DIR] [--format text|json|sarif|junit|markdown] [--output FILE] [--fail-on high|medium|low|never]
       [--on-not-assessed fail|warn] [--budget fast|default|thorough|MACS]
  ${TOOL_NAME} baseline build MODELS... --out DIR [--probes N] [--seed S] [--layers auto|L1,L2]
  ${TOOL_NAME} baseline add DIR MODELS...
  ${TOOL_NAME} baseline info DIR [--json]
  ${TOOL_NAME} inspect MODEL [--json]
  ${TOOL_NAME} fingerprint MODEL --out FILE [--layers ...] [--probes N] [--seed S]
  ${TOOL_NAME} invert MODEL [--probe-samples DIR] [--json]   (opt-in trigger inversion, outside the score)

MODELS are files, directories (searched for *.onnx) or globs.
Exit codes: 0 no model fails the gate, 1 a model reaches --fail-on or was not assessed (--on-not-assessed fail,
the default), 2 an error (a model or baseline could not be read).
Add --debug to any command for stack traces. --help after a command for its flags.
`;

export async function runCli(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const debug = argv.includes('--debug');
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'scan':
        return await scanCommand(rest, io);
      case 'baseline':
        return await baselineCommand(rest, io);
      case 'inspect':
        return await inspectCommand(rest, io);
      case 'fingerprint':
        return await fingerprintCommand(rest, io);
      case 'invert':
        return await invertCommand(rest, io);
      case '--version':
      case 'version':
        io.out(`${TOOL_VERSION}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`${TOOL_NAME}: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (isInputError(e)) {
      // An error about a file (a model) may quote names from that file: printed as one escaped line.
      io.err(`${TOOL_NAME}: error: ${e.file ? safeErrorLine(e.message) : e.message}\n`);
      if (debug && e.stack) io.err(`${e.stack}\n`);
    } else {
      io.err(
        `${TOOL_NAME}: internal error: ${describeError(e)} (this is a bug; rerun with --debug for details)\n`,
      );
      if (debug && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    }
    return 2;
  }
}
