import fc from 'fast-check';
import { marked } from 'marked';
import { MARKDOWN_MAX_ROWS } from '../../src/limits.js';
import { markdownCode, markdownText, renderMarkdown } from '../../src/report/markdown.js';
import type { ScanReport } from '../../src/report/types.js';
import { expectGolden } from './golden.js';
import {
  CLEAN_REPORT,
  FAILED,
  HIGH,
  LOW,
  NO_BASELINE_REPORT,
  NOT_ASSESSED,
  NOT_ASSESSED_REPORT,
  SAMPLE_REPORT,
  TEXT_REPORT,
  withPath,
} from './sample-report.js';

/** The text a reader sees in a piece of rendered HTML: tags stripped, marked's entities decoded. */
function htmlText(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}

/** The table cells as GitHub-flavoured Markdown renders them (as text). */
function renderedRows(md: string): string[][] {
  const html = marked.parse(md, { gfm: true, async: false });
  return [...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => htmlText(c[1])),
  );
}

describe('renderMarkdown', () => {
  it('matches the reviewed rendering of the sample report', () => {
    expectGolden('sample.md', renderMarkdown(SAMPLE_REPORT));
  });

  it('matches the reviewed rendering of a report without a baseline', () => {
    expectGolden('no-baseline.md', renderMarkdown(NO_BASELINE_REPORT));
  });

  it('matches the reviewed rendering of a scan where one model was not assessed', () => {
    expectGolden('not-assessed.md', renderMarkdown(NOT_ASSESSED_REPORT));
  });

  it('shows a not-assessed model with its own level above low, no score, why and the fix', () => {
    const md = renderMarkdown(NOT_ASSESSED_REPORT);
    const rows = renderedRows(md);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[2]])).toEqual([
      [NOT_ASSESSED.path, '-', 'NOT ASSESSED'],
      ['models/resnet18-32.onnx', '12', 'low'],
    ]);
    expect(rows[1][3]).toContain('not assessed: the budget affords too few forward passes');
    expect(md).toContain('#### Not assessed (1)');
    expect(htmlText(marked.parse(md, { gfm: true, async: false }))).toContain(NOT_ASSESSED.notAssessed.fix);
    expect(md).toContain('1 **not assessed** (fails the gate)');
    expect(md).toContain('<details><summary>Checks and scan budget</summary>');
  });

  it("matches the reviewed rendering of text models' suspected trigger words", () => {
    expectGolden('text-models.md', renderMarkdown(TEXT_REPORT));
    const rows = renderedRows(renderMarkdown(TEXT_REPORT));
    expect(rows[1][4]).toBe('class 5: word "attachment" inserted anywhere, flips 87%');
    expect(rows[2][4]).toBe('class 1: token ids 812 77 inserted anywhere, flips 64%');
  });

  it("prints a hostile trigger word (from the pull request's vocabulary) as literal text in its cell", () => {
    const word = '|<b>x</b>`*_[y](z)';
    const hostile = {
      ...TEXT_REPORT,
      models: [
        {
          ...TEXT_REPORT.models[1],
          explanation: {
            ...(TEXT_REPORT.models[1] as (typeof TEXT_REPORT.models)[1] & { explanation: object })
              .explanation,
            trigger: { kind: 'tokens', flipRate: 0.5, zScore: 4, tokens: [3], words: [word] },
          },
        },
      ],
    } as typeof TEXT_REPORT;
    const rows = renderedRows(renderMarkdown(hostile));
    expect(rows[1]).toHaveLength(5);
    expect(rows[1][4]).toBe(`class 5: word "${word}" inserted anywhere, flips 50%`);
  });

  it('lists models worst first with a clear level marker and the strongest signal', () => {
    const rows = renderedRows(renderMarkdown(SAMPLE_REPORT));
    expect(rows[0]).toEqual(['Model', 'Risk score', 'Level', 'Strongest signal', 'Suspected trigger']);
    expect(rows.slice(1).map((r) => [r[0], r[2]])).toEqual([
      [HIGH.path, 'HIGH'],
      ['models/fine-tuned v2.onnx', 'MEDIUM'],
      [LOW.path, 'low'],
    ]);
    expect(rows[1][1]).toBe('87');
    expect(rows[1][3]).toBe('knn/logits (p = 1.2e-4)');
    expect(renderMarkdown(SAMPLE_REPORT)).toContain('| **HIGH** |');
  });

  it("names a flagged model's suspected target class and trigger; a low model's easiest class is no finding", () => {
    const rows = renderedRows(renderMarkdown(SAMPLE_REPORT));
    expect(rows[1][4]).toBe(
      'class 7: bright 3x3 patch at the bottom-right corner (row 11, column 11), flips 92%',
    );
    expect(rows[2][4]).toBe('-'); // medium, but trigger probing named no class
    const lowWithClass = withPath(
      {
        ...LOW,
        explanation: { ...LOW.explanation, suspectedTargetClass: 5, trigger: HIGH.explanation.trigger },
      },
      'm/low.onnx',
    );
    const md = renderMarkdown({ ...SAMPLE_REPORT, models: [lowWithClass] });
    expect(renderedRows(md)[1][4]).toBe('-');
    // a location from the model's own probing is escaped like any other text: it cannot open a link or split a cell
    const odd = withPath(
      {
        ...HIGH,
        explanation: {
          ...HIGH.explanation,
          trigger: { ...HIGH.explanation.trigger!, location: '[x](y) | z' },
        },
      },
      'm/odd.onnx',
    );
    const oddRows = renderedRows(renderMarkdown({ ...SAMPLE_REPORT, models: [odd] }));
    expect(oddRows[1]).toHaveLength(5);
    expect(oddRows[1][4]).toBe('class 7: [x](y) | z, flips 92%');
  });

  it('names the baseline by short id and size, or says there is none', () => {
    const md = renderMarkdown(SAMPLE_REPORT);
    expect(md).toContain('Baseline `9f86d081884c`: 20 clean models');
    expect(md).not.toContain('9f86d081884c7');
    expect(renderMarkdown(NO_BASELINE_REPORT)).toContain('No baseline: reference-free checks only');
    expect(renderMarkdown(NO_BASELINE_REPORT)).toContain(`> ${NO_BASELINE_REPORT.notes[0]}`);
  });

  it('gives the guidance only when a model is flagged, and lists failed models with their errors', () => {
    const md = renderMarkdown(SAMPLE_REPORT);
    expect(md).toContain('What to do about a flagged model');
    expect(md).toContain('`model-fingerprint baseline add`');
    expect(md).toContain('#### Could not be scanned (1)');
    expect(md).toContain(`- \`${FAILED.path}\`: `);
    expect(md).toContain('(`pickle-file`)');
    const clean = renderMarkdown(CLEAN_REPORT);
    expect(clean).not.toContain('What to do about a flagged model');
    expect(clean).not.toContain('Could not be scanned');
    expect(clean).toContain('1 of 1 model scanned, 0 at or above **MEDIUM**.');
  });

  it('keeps a hostile path inside its cell: pipes, backticks, HTML and newlines', () => {
    const paths = [
      'models/a|b.onnx',
      'models/`tick`.onnx',
      '`edge',
      'models/<img src=x>&amp;.onnx',
      'two\nlines.onnx',
    ];
    for (const p of paths) {
      const rows = renderedRows(renderMarkdown({ ...SAMPLE_REPORT, models: [withPath(HIGH, p)] }));
      expect(rows).toHaveLength(2);
      expect(rows[1]).toHaveLength(rows[0].length); // one cell per column: the path did not split its cell
      expect(rows[1][0]).toBe(p.replace('\n', '\\x0a'));
      expect(rows[1][2]).toBe('HIGH');
    }
  });

  it('keeps any path made of Markdown and HTML specials inside its cell, unchanged', () => {
    const specials = fc.constantFrom(...'|`\\<>&*_[]()#!~ a/.-'.split(''));
    const hostilePath = fc
      .array(specials, { minLength: 1, maxLength: 24 })
      .map((cs) => `m/${cs.join('')}.onnx`);
    fc.assert(
      fc.property(hostilePath, (p) => {
        const rows = renderedRows(renderMarkdown({ ...SAMPLE_REPORT, models: [withPath(HIGH, p)] }));
        return (
          rows.length === 2 && rows[1].length === rows[0].length && rows[1][0] === p && rows[1][2] === 'HIGH'
        );
      }),
      { numRuns: 300 },
    );
  });

  it('escapes error messages so they cannot add links, HTML or emphasis', () => {
    const error = 'bad [link](http://x) <b>bold</b> *star* _u_';
    const md = renderMarkdown({ ...SAMPLE_REPORT, models: [{ ...FAILED, error }] });
    const html = marked.parse(md, { gfm: true, async: false });
    expect(html).not.toContain('>link</a>'); // a bare URL may autolink (it shows itself); hidden link text may not
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<em>');
    expect(htmlText(html)).toContain(`: ${error} (pickle-file)`);
  });

  it('cuts a very long table and says how many more there are', () => {
    const many: ScanReport = {
      ...SAMPLE_REPORT,
      models: Array.from({ length: MARKDOWN_MAX_ROWS + 7 }, (_, i) => withPath(LOW, `m/${i}.onnx`)),
    };
    const md = renderMarkdown(many);
    expect(renderedRows(md)).toHaveLength(MARKDOWN_MAX_ROWS + 1);
    expect(md).toContain('…and 7 more models');
  });

  it('escapes with helpers that keep plain text plain', () => {
    expect(markdownCode('plain.onnx')).toBe('`plain.onnx`');
    expect(markdownCode('a``b')).toBe('```a``b```');
    expect(markdownText('a-b.c')).toBe('a-b.c');
    expect(markdownText('1 | 2')).toBe('1 \\| 2');
  });
});
