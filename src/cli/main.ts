#!/usr/bin/env node
/**
 * model-fingerprint: the CLI entry. Thin: picks the command, runs it, and maps errors to exit codes
 * (0 clean, 1 flagged, 2 error). An InputError prints one line naming the file and the reason; anything
 * else is a bug and prints its stack only with --debug.
 */
import './platform-guard.js';
import { runCli } from './run.js';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 2;
  },
);
