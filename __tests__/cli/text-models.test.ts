/**
 * Text models through the CLI end to end, in-process, through real ONNX Runtime: embedding-bag classifiers
 * built in code (__tests__/fixtures/text-models.ts; one with a planted trigger word), a vocabulary file and a
 * plain-text samples file. A baseline keeps the vocabulary and the texts; scans with and without it name the
 * trigger word in every report format that shows one; a .txt without a vocabulary is refused with the fix.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';
import type { ScanReport, ScannedModel } from '../../src/report/types.js';
import { buildTextModel, sampleTexts, TEXT_VOCAB_LINES, TRIGGER_ID } from '../fixtures/text-models.js';

const work = tempDir('mf-text-');
const cleanDir = join(work, 'clean');
const bad = join(work, 'candidates', 'trojan.onnx');
const good = join(work, 'candidates', 'clean.onnx');
const vocab = join(work, 'vocab.txt');
const samples = join(work, 'texts', 'samples.txt');
const baseline = join(work, 'baseline');
const TRIGGER_WORD = TEXT_VOCAB_LINES[TRIGGER_ID];

function scanned(report: ScanReport, file: string): ScannedModel {
  const m = report.models.find((x) => x.path === file);
  if (!m || 'error' in m) throw new Error(`${file} not scanned: ${JSON.stringify(m)}`);
  return m;
}

beforeAll(async () => {
  mkdirSync(cleanDir, { recursive: true });
  mkdirSync(join(work, 'candidates'));
  mkdirSync(join(work, 'texts'));
  for (let s = 0; s < 12; s++)
    writeFileSync(join(cleanDir, `clean-${s}.onnx`), buildTextModel({ seed: 100 + s }));
  writeFileSync(good, buildTextModel({ seed: 200 }));
  writeFileSync(bad, buildTextModel({ seed: 201, backdoorTarget: 1 }));
  writeFileSync(vocab, TEXT_VOCAB_LINES.join('\n') + '\n');
  writeFileSync(samples, sampleTexts(64).join('\n') + '\n');
  const r = await cli(
    'baseline',
    'build',
    cleanDir,
    '--probe-samples',
    samples,
    '--vocab-file',
    vocab,
    '--out',
    baseline,
  );
  expect(r.err).not.toMatch(/internal error/);
  expect(r.code).toBe(0);
}, 300_000);

describe('a baseline of text models', () => {
  test('keeps the vocabulary and the texts, and records them for every later scan', () => {
    expect(readFileSync(join(baseline, 'vocab.txt'), 'utf8')).toBe(readFileSync(vocab, 'utf8'));
    expect(readdirSync(join(baseline, 'samples'))).toEqual(['samples.txt']);
    const m = JSON.parse(readFileSync(join(baseline, 'manifest.json'), 'utf8'));
    expect(m.probes.spec).toMatchObject({ samplesDir: 'samples', vocabFile: 'vocab.txt' });
    expect(m.signature).toBe('input_ids:int64[N,12]->logits:float32[N,4]');
  });

  test('a scan against it names the trigger word of the backdoored model, and calls the clean one low', async () => {
    const out = join(work, 'with-baseline.json');
    const r = await cli(
      'scan',
      bad,
      good,
      '--baseline',
      baseline,
      '--format',
      'json',
      '--output',
      out,
      '--fail-on',
      'never',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ScanReport;
    const b = scanned(report, bad);
    expect(b.riskLevel).toBe('high');
    expect(b.explanation.suspectedTargetClass).toBe(1);
    expect(b.explanation.trigger).toMatchObject({
      kind: 'tokens',
      tokens: [TRIGGER_ID],
      words: [TRIGGER_WORD],
    });
    expect(scanned(report, good).riskLevel).toBe('low');
    const md = await cli('scan', bad, '--baseline', baseline, '--format', 'markdown', '--fail-on', 'never');
    expect(md.out).toContain(`class 1: word "${TRIGGER_WORD}" inserted anywhere, flips`);
  }, 300_000);
});

describe('a text model without a baseline', () => {
  test('with the texts and the vocabulary: the trigger word is named and the model called high', async () => {
    const r = await cli(
      'scan',
      bad,
      good,
      '--probe-samples',
      samples,
      '--vocab-file',
      vocab,
      '--format',
      'json',
      '--fail-on',
      'never',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as ScanReport;
    const b = scanned(report, bad);
    expect(b.riskLevel).toBe('high');
    expect(b.explanation.trigger?.words).toEqual([TRIGGER_WORD]);
    expect(b.explanation.summary).toContain(`inserting the word "${TRIGGER_WORD}" flips`);
    expect(scanned(report, good).riskLevel).toBe('low');
  }, 300_000);

  test('without samples the texts are mined from the model, and the report says to give real texts', async () => {
    const r = await cli('scan', bad, '--vocab-file', vocab, '--format', 'json', '--fail-on', 'never');
    const b = scanned(JSON.parse(r.out) as ScanReport, bad);
    expect(b.explanation.trigger?.words).toEqual([TRIGGER_WORD]);
    expect(b.explanation.summary).toContain('give real texts (--probe-samples with a .txt file');
  }, 300_000);

  test('without the vocabulary the report gives the token id', async () => {
    const r = await cli(
      'scan',
      bad,
      '--probe-samples',
      samples.replace('samples.txt', ''),
      '--format',
      'text',
      '--fail-on',
      'never',
    );
    // the folder holds a .txt only, which needs the vocabulary: refused, naming the fix
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(
      /plain-text samples need the model's vocabulary to be tokenised; give --vocab-file FILE/,
    );
    const ids = await cli('scan', bad, '--format', 'json', '--fail-on', 'never');
    const b = scanned(JSON.parse(ids.out) as ScanReport, bad);
    expect(b.explanation.trigger?.tokens).toEqual([TRIGGER_ID]);
    expect(b.explanation.trigger?.words).toBeUndefined();
  }, 300_000);

  test('a missing vocabulary file is refused with its name', async () => {
    const r = await cli('scan', bad, '--vocab-file', join(work, 'nope.txt'));
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(/nope\.txt: the vocabulary file does not exist/);
    expect(existsSync(join(work, 'nope.txt'))).toBe(false);
  });
});
