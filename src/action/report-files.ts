/**
 * The report files a run leaves for later steps (upload-sarif, artifacts): JSON, SARIF and Markdown,
 * under RUNNER_TEMP (or the workspace when run outside a runner). Their paths become step outputs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReportFiles {
  json: string;
  sarif: string;
  markdown: string;
}

export function writeReportFiles(
  outDir: string,
  content: { json: string; sarif: string; markdown: string },
): ReportFiles {
  mkdirSync(outDir, { recursive: true });
  const files: ReportFiles = {
    json: join(outDir, 'report.json'),
    sarif: join(outDir, 'report.sarif'),
    markdown: join(outDir, 'report.md'),
  };
  writeFileSync(files.json, content.json.endsWith('\n') ? content.json : content.json + '\n');
  writeFileSync(files.sarif, content.sarif.endsWith('\n') ? content.sarif : content.sarif + '\n');
  writeFileSync(files.markdown, content.markdown);
  return files;
}
