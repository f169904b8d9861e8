/**
 * Samples for a text model (src/probes/text-samples.ts, wired in generate.ts): plain-text files tokenised
 * with the vocabulary, int32/int64 .npy token ids, a folder or one file, the probe set's sample probes and
 * trigger texts made from them, and every unusable input refused with the file named and the fix.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateProbes } from '../../src/probes/generate.js';
import { loadTokenSamples, padIds, tokeniseText } from '../../src/probes/text-samples.js';
import { parseVocabulary } from '../../src/probes/vocab.js';
import type { TensorInfo } from '../../src/model/types.js';

const VOCAB_TEXT = '<pad>\n<unk>\nthe\ncat\nsat\non\nmat\n';
const withUnk = parseVocabulary(new TextEncoder().encode(VOCAB_TEXT), 'vocab.txt');
const noUnk = parseVocabulary(new TextEncoder().encode('<pad>\nthe\ncat\n'), 'small.txt');

function npy(descr: string, shape: number[], body: ArrayBufferView): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  const out = new Uint8Array(10 + header.length + bytes.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(bytes, 10 + header.length);
  return out;
}

function dirWith(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'text-samples-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
  return dir;
}

describe('tokeniseText', () => {
  it('lowercases, splits on whitespace, strips edge punctuation of unknown words, maps the rest to <unk>', () => {
    expect(tokeniseText('The  CAT sat,\ton the "mat".', withUnk, 'x')).toEqual([2, 3, 4, 5, 2, 6]);
    expect(tokeniseText('the dog !!', withUnk, 'x')).toEqual([2, 1]); // "!!" alone is dropped
  });

  it('refuses an unknown word when the vocabulary has no unknown token, naming where and the fix', () => {
    expect(() => tokeniseText('the dog', noUnk, 'texts.txt:3')).toThrow(
      /texts\.txt:3: the word "dog" is not in the vocabulary small\.txt, which has no unknown-word token .*add one, or give token ids as \.npy/,
    );
  });

  it('cuts to the window and pads the end', () => {
    expect(Array.from(padIds([5, 6, 7], 5, 0))).toEqual([5, 6, 7, 0, 0]);
    expect(Array.from(padIds([5, 6, 7], 2, 0))).toEqual([5, 6]);
  });
});

describe('loadTokenSamples', () => {
  it('reads a .txt file (one text a line, blank lines skipped) from a folder or given alone', () => {
    const dir = dirWith({ 'a.txt': 'the cat sat\n\non the mat\n', 'notes.md': 'ignored' });
    const fromDir = loadTokenSamples(dir, 4, 7, withUnk);
    expect(fromDir.rows.map((r) => Array.from(r))).toEqual([
      [2, 3, 4, 0],
      [5, 2, 6, 0],
    ]);
    expect(fromDir.files).toEqual(['a.txt']);
    const alone = loadTokenSamples(path.join(dir, 'a.txt'), 4, 7, withUnk);
    expect(alone.rows).toEqual(fromDir.rows);
  });

  it('reads int64 and int32 .npy ids of shape [n, seq] or [seq]', () => {
    const dir = dirWith({
      'a.npy': npy('<i8', [2, 3], BigInt64Array.of(1n, 2n, 3n, 4n, 5n, 6n)),
      'b.npy': npy('<i4', [3], Int32Array.of(6, 0, 0)),
    });
    const s = loadTokenSamples(dir, 3, 7);
    expect(s.rows.map((r) => Array.from(r))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [6, 0, 0],
    ]);
  });

  it('changes its digest with the vocabulary that tokenised the texts', () => {
    const dir = dirWith({ 'a.txt': 'the cat\n' });
    const other = parseVocabulary(new TextEncoder().encode('<pad>\n<unk>\ncat\nthe\n'), 'other.txt');
    expect(loadTokenSamples(dir, 4, 7, withUnk).digest).not.toBe(loadTokenSamples(dir, 4, 7, other).digest);
  });

  it.each([
    [
      'a float .npy',
      { 'a.npy': npy('<f4', [3], Float32Array.of(1, 2, 3)) },
      /token-id samples must be int32 or int64/,
    ],
    [
      'ids past the vocabulary',
      { 'a.npy': npy('<i8', [3], BigInt64Array.of(1n, 99n, 0n)) },
      /token id 99, outside the model's vocabulary of 7 ids/,
    ],
    ['negative ids', { 'a.npy': npy('<i4', [3], Int32Array.of(1, -5, 0)) }, /token id -1, outside/],
    [
      'a length that is not the window',
      { 'a.npy': npy('<i8', [4], BigInt64Array.of(1n, 2n, 3n, 4n)) },
      /do not make whole texts of the model's sequence length 3/,
    ],
    ['a folder without texts', { 'x.png': 'no' }, /no \.txt or \.npy samples/],
    ['only blank lines', { 'a.txt': '\n \n' }, /hold no texts/],
  ])('refuses %s', (_, files, why) => {
    expect(() => loadTokenSamples(dirWith(files as Record<string, Uint8Array>), 3, 7, withUnk)).toThrow(why);
  });

  it('refuses a .txt file without a vocabulary, and a missing path', () => {
    const dir = dirWith({ 'a.txt': 'the cat\n' });
    expect(() => loadTokenSamples(dir, 3, 7)).toThrow(
      /plain-text samples need the model's vocabulary .*--vocab-file/,
    );
    expect(() => loadTokenSamples(path.join(dir, 'nope'), 3, 7)).toThrow(/does not exist/);
  });
});

describe('generateProbes with text samples', () => {
  const INPUT: TensorInfo[] = [{ name: 'input_ids', dtype: 'int64', shape: ['N', 4] }];

  it('fills the sample probes with the texts and hands trigger probing all of them', () => {
    const dir = dirWith({ 'a.txt': 'the cat sat\non the mat\nthe mat\n' });
    // the vocabulary may sit in the samples folder: it is not read as texts
    const vocabFile = path.join(dir, 'vocab.txt');
    writeFileSync(vocabFile, VOCAB_TEXT);
    mkdirSync(path.join(dir, 'sub'));
    const ps = generateProbes(
      INPUT,
      { samplesDir: dir, vocabFile, count: 8 },
      { vocabByInput: { input_ids: 7 } },
    );
    const data = ps.inputs[0].data as BigInt64Array;
    const first = ps.probeKinds.indexOf('samples');
    expect(Array.from(data.subarray(first * 4, first * 4 + 4), Number)).toEqual([2, 3, 4, 0]);
    expect(ps.triggerTokens?.count).toBe(3);
    expect(Array.from(ps.triggerTokens!.data.subarray(4, 8))).toEqual([5, 2, 6, 0]);
    // another vocabulary tokenises differently: another probe set
    const other = path.join(mkdtempSync(path.join(tmpdir(), 'vocab-')), 'other.txt');
    writeFileSync(other, '<pad>\n<unk>\nmat\non\nthe\nsat\ncat\n');
    const ps2 = generateProbes(
      INPUT,
      { samplesDir: dir, vocabFile: other, count: 8 },
      { vocabByInput: { input_ids: 7 } },
    );
    expect(ps2.hash).not.toBe(ps.hash);
  });

  it('refuses samples for a model with neither a float nor a token-id input', () => {
    const dir = dirWith({ 'a.txt': 'x\n' });
    expect(() =>
      generateProbes([{ name: 'm', dtype: 'bool', shape: ['N', 4] }], { samplesDir: dir, count: 4 }),
    ).toThrow(/probe samples need a float, uint8 or token-id input/);
  });
});
