/**
 * A text model's vocabulary file (`--vocab-file FILE`, action input `vocab-file`): maps token ids to words,
 * so trigger probing reports the words a backdoor reacts to, and plain-text samples can be tokenised.
 *
 * Formats (chosen by the file's first non-space character, not by its name):
 *   one token per line   the line number is the id, counted from 0 (BERT's vocab.txt, fastText/torchtext
 *                        exports, a plain word list). A trailing "\r" is dropped; a line may hold spaces
 *                        (kept as part of the token); an empty line is a token "" (ids stay aligned).
 *   a JSON object        {"token": id, ...} (Hugging Face vocab.json, Keras word_index); every id a
 *                        distinct whole number >= 0. Ids the object leaves out are unnamed ("#id" in reports).
 * Special tokens are recognised by name: padding `<pad>`, `[PAD]`, `<PAD>`, `<|pad|>`, `<blank>`; unknown
 * `<unk>`, `[UNK]`, `<UNK>`, `<|unk|>`, `<oov>`, `[OOV]`, `<OOV>`.
 *
 * Hand-written: the two formats are a split and a JSON.parse; no package does less.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { MAX_VOCAB_ENTRIES, MAX_VOCAB_FILE_BYTES } from '../limits.js';

export const PAD_TOKENS = ['<pad>', '[PAD]', '<PAD>', '<|pad|>', '<blank>'];
export const UNK_TOKENS = ['<unk>', '[UNK]', '<UNK>', '<|unk|>', '<oov>', '[OOV]', '<OOV>'];

export interface Vocabulary {
  /** The word of each id (index = id); undefined where a JSON vocabulary names no token. */
  words: (string | undefined)[];
  /** Id of each word. */
  ids: Map<string, number>;
  /** Id of the padding token, when the vocabulary has one. */
  pad?: number;
  /** Id of the unknown-word token, when the vocabulary has one. */
  unk?: number;
  /** sha256 of the file's bytes. */
  digest: string;
  file: string;
}

function firstOf(ids: Map<string, number>, names: readonly string[]): number | undefined {
  for (const n of names) {
    const id = ids.get(n);
    if (id !== undefined) return id;
  }
  return undefined;
}

/** Parses vocabulary bytes (see the header for the formats). */
export function parseVocabulary(bytes: Uint8Array, file: string): Vocabulary {
  const bad = (why: string): never => {
    throw new InputError(
      'bad-argument',
      `${file}: not a vocabulary file (${why}); give one token per line (line number = id) or a JSON object {"token": id}`,
      file,
    );
  };
  if (bytes.length > MAX_VOCAB_FILE_BYTES) bad(`larger than ${MAX_VOCAB_FILE_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bad('not UTF-8 text');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const words: (string | undefined)[] = [];
  const ids = new Map<string, number>();
  if (/^\s*\{/.test(text)) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      return bad(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return bad('JSON that is not an object');
    const entries = Object.entries(obj as Record<string, unknown>);
    if (entries.length > MAX_VOCAB_ENTRIES) bad(`more than ${MAX_VOCAB_ENTRIES} entries`);
    for (const [w, raw] of entries) {
      const id = typeof raw === 'number' ? raw : -1;
      if (!Number.isSafeInteger(id) || id < 0 || id >= MAX_VOCAB_ENTRIES)
        bad(`the id of ${JSON.stringify(w).slice(0, 40)} is not a whole number 0..${MAX_VOCAB_ENTRIES - 1}`);
      if (words[id] !== undefined) bad(`id ${id} is given to two tokens`);
      words[id] = w;
      ids.set(w, id);
    }
  } else {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length > MAX_VOCAB_ENTRIES) bad(`more than ${MAX_VOCAB_ENTRIES} lines`);
    lines.forEach((raw, i) => {
      const w = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      words.push(w);
      // a repeated token keeps its first id (the one a tokeniser's lookup would return)
      if (!ids.has(w)) ids.set(w, i);
    });
  }
  if (ids.size === 0) bad('no tokens');
  const pad = firstOf(ids, PAD_TOKENS);
  const unk = firstOf(ids, UNK_TOKENS);
  return {
    words,
    ids,
    ...(pad !== undefined ? { pad } : {}),
    ...(unk !== undefined ? { unk } : {}),
    digest: createHash('sha256').update(bytes).digest('hex'),
    file,
  };
}

/** Reads and parses a vocabulary file, refusing a missing or oversized one with the fix. */
export function readVocabulary(file: string): Vocabulary {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    throw new InputError('not-found', `${file}: the vocabulary file does not exist or is not a file`, file);
  }
  if (size > MAX_VOCAB_FILE_BYTES) {
    throw new InputError(
      'too-large',
      `${file}: the vocabulary file is ${size} bytes, over the ${MAX_VOCAB_FILE_BYTES}-byte limit`,
      file,
    );
  }
  return parseVocabulary(new Uint8Array(readFileSync(file)), file);
}

/** Longest word a report prints before cutting it (a vocabulary comes from the pull request too). */
export const MAX_REPORTED_WORD_CHARS = 40;

/** Control characters, replaced in reported words (a word comes from the pull request). */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f]/g;

/** The word of a token id for a report: the vocabulary's word, cut and with control characters escaped, or "#id". */
export function wordOf(vocab: Vocabulary | undefined, id: number): string {
  const w = vocab?.words[id];
  if (w === undefined) return `#${id}`;
  const clean = JSON.stringify(w).slice(1, -1).replace(CONTROL_CHARS, '?');
  return clean.length > MAX_REPORTED_WORD_CHARS ? `${clean.slice(0, MAX_REPORTED_WORD_CHARS)}...` : clean;
}

/** Vocabularies read in this process, by path and the file's size and modification time. */
const cache = new Map<string, { key: string; vocab: Vocabulary }>();

/**
 * readVocabulary, reusing the last parse of the same unchanged file: a baseline build or a scan of many
 * models of one architecture reads the same vocabulary for every model.
 */
export function readVocabularyCached(file: string): Vocabulary {
  let key: string;
  try {
    const st = statSync(file);
    key = `${st.size}:${st.mtimeMs}`;
  } catch {
    return readVocabulary(file); // says what is wrong
  }
  const hit = cache.get(file);
  if (hit && hit.key === key) return hit.vocab;
  const vocab = readVocabulary(file);
  cache.set(file, { key, vocab });
  return vocab;
}
