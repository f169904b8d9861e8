#!/usr/bin/env node
// The CLI ships bundled in dist/cli (committed), so a fresh clone runs it after `npm ci` without a build.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
await import('../dist/cli/index.js');
