/**
 * The vocabulary file (src/probes/vocab.ts): one token per line (line number = id) and JSON {token: id}, the
 * special tokens found by name, words printed safely, and every malformed file refused with the fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseVocabulary, readVocabulary, readVocabularyCached, wordOf } from '../../src/probes/vocab.js';
import { MAX_REPORTED_WORD_CHARS } from '../../src/probes/vocab.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('parseVocabulary', () => {
  it('reads one token per line: the line number is the id (CRLF, a BOM and a final newline handled)', () => {
    const v = parseVocabulary(enc('\ufeff[PAD]\r\n[UNK]\r\nthe\r\ncat\r\n'), 'v.txt');
    expect(v.words).toEqual(['[PAD]', '[UNK]', 'the', 'cat']);
    expect(v.ids.get('cat')).toBe(3);
    expect(v.pad).toBe(0);
    expect(v.unk).toBe(1);
    expect(v.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps empty lines and spaces as tokens, so ids stay aligned; a repeated token keeps its first id', () => {
    const v = parseVocabulary(enc('a\n\nb c\na\n'), 'v.txt');
    expect(v.words).toEqual(['a', '', 'b c', 'a']);
    expect(v.ids.get('b c')).toBe(2);
    expect(v.ids.get('a')).toBe(0);
    expect(v.pad).toBeUndefined();
  });

  it('reads a JSON object of token -> id, ids it leaves out unnamed', () => {
    const v = parseVocabulary(enc('{"<pad>": 0, "hello": 5, "<unk>": 2}'), 'vocab.json');
    expect(v.words[5]).toBe('hello');
    expect(v.words[3]).toBeUndefined();
    expect(v.pad).toBe(0);
    expect(v.unk).toBe(2);
    expect(wordOf(v, 3)).toBe('#3');
  });

  it.each([
    ['{"a": 1, "b": 1}', /id 1 is given to two tokens/],
    ['{"a": -1}', /not a whole number/],
    ['{"a": "x"}', /not a whole number/],
    ['{"a": 1,', /invalid JSON/],
    ['{"a": 1.5}', /not a whole number/],
    ['', /no tokens/],
  ])('refuses %j', (text, why) => {
    expect(() => parseVocabulary(enc(text), 'bad.json')).toThrow(why);
    expect(() => parseVocabulary(enc(text), 'bad.json')).toThrow(
      /bad\.json: not a vocabulary file .*one token per line/,
    );
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() => parseVocabulary(Uint8Array.of(0x61, 0xff, 0xfe, 0x0a), 'bin.txt')).toThrow(/not UTF-8/);
  });
});

describe('wordOf', () => {
  it('escapes control characters and cuts long words (words come from the pull request)', () => {
    const v = parseVocabulary(enc(`ok\nbad\u0007word\n${'x'.repeat(100)}\n`), 'v.txt');
    expect(wordOf(v, 0)).toBe('ok');
    expect(wordOf(v, 1)).not.toContain('\u0007');
    expect(wordOf(v, 2).length).toBeLessThanOrEqual(MAX_REPORTED_WORD_CHARS + 3);
    expect(wordOf(undefined, 7)).toBe('#7');
  });
});

describe('readVocabulary', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vocab-'));

  it('names a missing file and a folder', () => {
    expect(() => readVocabulary(path.join(dir, 'none.txt'))).toThrow(
      /none\.txt: the vocabulary file does not exist/,
    );
    expect(() => readVocabulary(dir)).toThrow(/does not exist or is not a file/);
  });

  it('re-reads a file that changed, and reuses an unchanged one', () => {
    const f = path.join(dir, 'v.txt');
    writeFileSync(f, 'a\nb\n');
    const first = readVocabularyCached(f);
    expect(readVocabularyCached(f)).toBe(first);
    writeFileSync(f, 'a\nb\nc\n');
    expect(readVocabularyCached(f).words).toEqual(['a', 'b', 'c']);
  });
});
