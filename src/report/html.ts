/**
 * The HTML report: one self-contained page (no external assets, no scripts: PNGs inlined as data: URIs,
 * inline CSS) with the table of models, the baseline line, the notes, and per flagged model its explanation
 * and pictures (the suspected trigger stamped on a few inputs, before and after; the patch map of each
 * suspected class). Paths, error messages and explanations can come from a pull request's files, so every
 * string is escaped for HTML text and attributes (and control characters made visible, printable.ts).
 */
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import {
  baselineText,
  countModels,
  partitionModels,
  strongestSignalText,
  suspectedTriggerText,
} from './describe.js';
import {
  FLAGGED_MODEL_GUIDANCE,
  FLAGGED_MODEL_GUIDANCE_TITLE,
  UNSCANNABLE_MODEL_GUIDANCE,
} from './guidance.js';
import { levelLabel } from './levels.js';
import { formatPValue, formatRiskScore } from './numbers.js';
import { printable } from './printable.js';
import type { FailOn, ScanReport, ScannedModel } from './types.js';
import { imageTriggerText } from './trigger-text.js';

/** The pictures of one flagged model (src/report/pictures.ts makes them). */
export interface ModelPictures {
  evidence: TriggerEvidence;
  /** The classes the patch map shows. */
  classes: number[];
  trigger: { name: string; png: Buffer };
  map: { name: string; png: Buffer } | null;
}

export interface HtmlOptions {
  /** Level that counts as failing (for the summary line); defaults to the report's failOn. */
  failOn?: FailOn;
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe in HTML content and in quoted attribute values. */
export function escapeHtml(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

/** Our own Markdown-ish guidance (backticks only) as HTML. */
function guidanceHtml(s: string): string {
  return escapeHtml(s).replace(/`([^`]*)`/g, '<code>$1</code>');
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; word-break: break-all; }
.high { color: #b3001b; font-weight: 700; }
.medium { color: #9a6700; font-weight: 700; }
.low { color: #1a7f37; }
.note { border-left: 4px solid #d0d7de; padding-left: .8em; color: #57606a; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: .9em; margin-top: .3em; }
footer { margin-top: 3em; color: #57606a; font-size: .85em; }
`.trim();

function levelHtml(m: ScannedModel): string {
  return `<span class="${m.riskLevel}">${escapeHtml(levelLabel(m.riskLevel))}</span>`;
}

function dataUri(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

function anchorOf(i: number): string {
  return `model-${i + 1}`;
}

function tableHtml(models: ScannedModel[], anchors: Map<string, string>): string[] {
  const rows = models.map((m) => {
    const trigger = m.riskLevel === 'low' ? undefined : suspectedTriggerText(m);
    const anchor = anchors.get(m.path);
    const path = `<code>${escapeHtml(m.path)}</code>`;
    return (
      `<tr><td>${anchor ? `<a href="#${anchor}">${path}</a>` : path}</td>` +
      `<td class="num">${escapeHtml(formatRiskScore(m.riskScore))}</td><td>${levelHtml(m)}</td>` +
      `<td class="num">${escapeHtml(formatPValue(m.pValue))}</td>` +
      `<td>${escapeHtml(strongestSignalText(m))}</td><td>${trigger ? escapeHtml(trigger) : '-'}</td></tr>`
    );
  });
  return [
    '<table>',
    '<thead><tr><th>Model</th><th>Risk score</th><th>Level</th><th>p-value</th><th>Strongest signal</th><th>Suspected trigger</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
  ];
}

/** What the trigger picture's inputs are, in words. */
function inputsWords(e: TriggerEvidence): string {
  const what =
    e.basis === 'samples'
      ? 'of your probe samples'
      : e.basis === 'mined'
        ? 'mined from the model (no samples were given)'
        : e.basis === 'synthesised'
          ? 'synthesised from the model (no samples were given)'
          : 'of the generated probes';
  const which = e.examplesFrom === 'held-out' ? 'held-out inputs' : 'inputs';
  return `${which} ${what}`;
}

function modelSection(m: ScannedModel, anchor: string, p: ModelPictures | undefined): string[] {
  const out = [
    `<section id="${anchor}">`,
    `<h3><code>${escapeHtml(m.path)}</code>: ${levelHtml(m)}, risk score ${escapeHtml(formatRiskScore(m.riskScore))}</h3>`,
    `<p>${escapeHtml(m.explanation.summary)}</p>`,
  ];
  if (!p) {
    out.push(
      '<p class="note">No pictures: trigger probing did not run on this model (it needs one image-like float input, ' +
        'class scores for at least 3 classes, and a model small enough for its compute budget).</p>',
      '</section>',
    );
    return out;
  }
  const e = p.evidence;
  const t = e.trigger;
  const alt = `Trigger probing's strongest trigger for class ${e.targetClass} (${imageTriggerText(t)}) stamped on ${e.examples.length} inputs, before and after`;
  out.push(
    '<figure>',
    `<img src="${dataUri(p.trigger.png)}" alt="${escapeHtml(alt)}">`,
    `<figcaption>${escapeHtml(
      `Trigger probing's strongest trigger for class ${e.targetClass}: ${imageTriggerText(t)}; ` +
        `it sends ${Math.round(100 * e.flipRate)}% of the ${inputsWords(e)} into class ${e.targetClass}. ` +
        `Top: ${e.examples.length} of those inputs as they are; bottom: with the trigger stamped. Under each, ` +
        'the class the model gave it during the scan (red: the suspected class, reached by stamping).',
    )}</figcaption>`,
    '</figure>',
  );
  if (p.map) {
    const classes = p.classes.map((c) => `class ${c}`).join(' and ');
    out.push(
      '<figure>',
      `<img src="${dataUri(p.map.png)}" alt="${escapeHtml(`Patch map of ${classes}`)}">`,
      `<figcaption>${escapeHtml(
        `Patch map of ${classes}: a solid white patch of each size stamped at every position on ${e.map?.inputs ?? 0} inputs; ` +
          'each cell, at the top-left corner of a patch, is coloured by the share of those inputs the patch sent into the class. ' +
          'A backdoor shows as one spot that sends nearly every input there; a clean model has scattered, faint cells.',
      )}</figcaption>`,
      '</figure>',
    );
  }
  out.push('</section>');
  return out;
}

/** The whole page, ending in a newline. `pictures`: by model path (src/report/pictures.ts). */
export function renderHtml(
  report: ScanReport,
  pictures: ReadonlyMap<string, ModelPictures>,
  opts: HtmlOptions = {},
): string {
  const failOn = opts.failOn ?? report.failOn;
  const { scanned, failed } = partitionModels(report);
  const flagged = scanned.filter((m) => m.riskLevel !== 'low');
  const anchors = new Map(flagged.map((m, i) => [m.path, anchorOf(i)]));
  const c = countModels(report, failOn);
  const summary =
    `${c.scanned} of ${c.total} model${c.total === 1 ? '' : 's'} scanned` +
    (failOn === 'never' ? ', fail-on: never' : `, ${c.failing} at or above ${levelLabel(failOn)}`) +
    (c.failed > 0 ? `, ${c.failed} could not be scanned` : '') +
    '.';
  const out: string[] = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Model fingerprint scan</title>',
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    '<h1>Model fingerprint scan</h1>',
    `<p>${escapeHtml(summary)}</p>`,
  ];
  if (scanned.length > 0) out.push(...tableHtml(scanned, anchors));
  out.push(`<p>Compared against: ${escapeHtml(baselineText(report.baseline))}.</p>`);
  for (const note of report.notes) out.push(`<p class="note">${escapeHtml(note)}</p>`);
  if (flagged.length > 0) {
    out.push('<h2>Flagged models</h2>');
    flagged.forEach((m, i) => out.push(...modelSection(m, anchorOf(i), pictures.get(m.path))));
    out.push(
      `<h2>${escapeHtml(FLAGGED_MODEL_GUIDANCE_TITLE)}</h2>`,
      '<ol>',
      ...FLAGGED_MODEL_GUIDANCE.map((s) => `<li>${guidanceHtml(s)}</li>`),
      '</ol>',
    );
  }
  if (failed.length > 0) {
    out.push(
      `<h2>Could not be scanned (${failed.length})</h2>`,
      '<ul>',
      ...failed.map(
        (m) =>
          `<li><code>${escapeHtml(m.path)}</code>: ${escapeHtml(m.error)} (<code>${escapeHtml(m.errorCode)}</code>)</li>`,
      ),
      '</ul>',
      `<p>${guidanceHtml(UNSCANNABLE_MODEL_GUIDANCE)}</p>`,
    );
  }
  out.push(
    `<footer>${escapeHtml(`${report.tool.name} ${report.tool.version}, report format ${report.version}`)}</footer>`,
    '</body>',
    '</html>',
  );
  return `${out.join('\n')}\n`;
}
