/**
 * User-supplied samples for a text model (one integer token-id input [N, seq]): what `--probe-samples`
 * reads when the model's input is token ids. A folder (or a single file) of
 *   .npy   int32 or int64 arrays of token ids, shape [seq] or [n, seq] (numpy.save, C order); each row one
 *          text, already tokenised and padded the way the model expects;
 *   .txt   plain text, one text per line (blank lines skipped), tokenised here with the vocabulary file
 *          (`--vocab-file`, src/probes/vocab.ts). Tokenisation: lowercased, split on whitespace; a word not in
 *          the vocabulary is looked up again without its leading and trailing punctuation; a word still
 *          unknown becomes the vocabulary's unknown token (<unk>, [UNK], ...), and with no such token the file
 *          is refused naming the line and the word. Texts are cut to the sequence length and padded at the
 *          end with the vocabulary's padding token (<pad>, [PAD], ...), else id 0. Sub-word tokenisers
 *          (WordPiece, BPE, SentencePiece) are not reproduced: tokenise with your own tokeniser and give .npy.
 * Files are read in sorted name order (the vocabulary file itself, when it sits in the folder, is skipped); every id must lie in [0, vocabulary size) or the file is refused. The
 * digest of the files' bytes (and of the vocabulary, when it tokenised a .txt) enters the probe-set hash.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { MAX_TEXT_SAMPLE_CHARS } from '../limits.js';
import { MAX_SAMPLE_FILES, parseNpyHeader } from './samples.js';
import type { Vocabulary } from './vocab.js';

export interface TokenSamples {
  /** One row of `seq` ids per text. */
  rows: Int32Array[];
  digest: string;
  files: string[];
}

/** Characters stripped from a word's ends when the word itself is not in the vocabulary. */
const EDGE_PUNCTUATION = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;

/** The sample files for a token input: .npy and .txt files of a folder (sorted), or the one file given. */
export function listTokenSampleFiles(source: string): { dir: string; names: string[] } {
  let isFile: boolean;
  try {
    isFile = statSync(source).isFile();
  } catch {
    throw new InputError('not-found', `${source}: the probe samples folder or file does not exist`, source);
  }
  if (isFile) {
    if (!/\.(npy|txt)$/i.test(source))
      throw new InputError(
        'bad-argument',
        `${source}: samples for a token-id input are .txt (one text per line) or .npy (int32/int64 ids) files`,
        source,
      );
    return { dir: path.dirname(source), names: [path.basename(source)] };
  }
  let names: string[];
  try {
    names = readdirSync(source)
      .filter((n) => /\.(npy|txt)$/i.test(n))
      .sort();
  } catch {
    throw new InputError('not-found', `${source}: the probe samples folder cannot be read`, source);
  }
  if (names.length === 0)
    throw new InputError(
      'bad-argument',
      `${source}: no .txt or .npy samples in the probe samples folder (a token-id model reads texts, one per line, or int32/int64 id arrays)`,
      source,
    );
  return { dir: source, names: names.slice(0, MAX_SAMPLE_FILES) };
}

/** Token ids of one text (see the header); throws naming `where` for a word the vocabulary cannot map. */
export function tokeniseText(text: string, vocab: Vocabulary, where: string): number[] {
  const out: number[] = [];
  for (const raw of text.toLowerCase().split(/\s+/)) {
    if (!raw) continue;
    let id = vocab.ids.get(raw);
    if (id === undefined) {
      const bare = raw.replace(EDGE_PUNCTUATION, '');
      if (bare) id = vocab.ids.get(bare);
      else continue; // punctuation alone
    }
    if (id === undefined) id = vocab.unk;
    if (id === undefined) {
      throw new InputError(
        'unsupported-input',
        `${where}: the word ${JSON.stringify(raw.slice(0, 40))} is not in the vocabulary ${vocab.file}, which has no unknown-word token (<unk> or [UNK]); add one, or give token ids as .npy`,
        vocab.file,
      );
    }
    out.push(id);
  }
  return out;
}

/** Cuts `ids` to `seq` and pads the end with `pad`. */
export function padIds(ids: readonly number[], seq: number, pad: number): Int32Array {
  const row = new Int32Array(seq).fill(pad);
  for (let i = 0; i < Math.min(seq, ids.length); i++) row[i] = ids[i];
  return row;
}

function npyRows(buf: Uint8Array, file: string, seq: number): Int32Array[] {
  const sizeOf = (descr: string): number => {
    if (descr === '<i8') return 8;
    if (descr === '<i4') return 4;
    throw new InputError(
      'unsupported-input',
      `${file}: token-id samples must be int32 or int64 (.npy dtype ${descr}); save them with numpy.save(ids.astype("int64"))`,
      file,
    );
  };
  const { descr, count, body } = parseNpyHeader(buf, file, sizeOf);
  if (count === 0 || count % seq !== 0)
    throw new InputError(
      'unsupported-input',
      `${file}: ${count} token ids do not make whole texts of the model's sequence length ${seq}`,
      file,
    );
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const rows: Int32Array[] = [];
  for (let r = 0; r < count / seq; r++) {
    const row = new Int32Array(seq);
    for (let i = 0; i < seq; i++) {
      const k = r * seq + i;
      const v = descr === '<i8' ? Number(dv.getBigInt64(k * 8, true)) : dv.getInt32(k * 4, true);
      row[i] = v < -1 || v > 0x7fffffff ? -1 : v;
    }
    rows.push(row);
  }
  return rows;
}

/**
 * Loads token-id samples for an input of `seq` tokens and `vocabSize` ids from a folder or file (see the
 * header). `vocab` tokenises .txt files; without it a .txt file is refused with the fix.
 */
export function loadTokenSamples(
  source: string,
  seq: number,
  vocabSize: number,
  vocab?: Vocabulary,
): TokenSamples {
  const { dir, names } = listTokenSampleFiles(source);
  const hash = createHash('sha256');
  const rows: Int32Array[] = [];
  let usedVocab = false;
  for (const name of names) {
    const file = path.join(dir, name);
    // the vocabulary file kept beside the texts is not a text
    if (vocab && path.resolve(file) === path.resolve(vocab.file)) continue;
    const buf = new Uint8Array(readFileSync(file));
    hash.update(name).update(buf);
    const from = rows.length;
    if (/\.npy$/i.test(name)) rows.push(...npyRows(buf, file, seq));
    else {
      if (!vocab)
        throw new InputError(
          'bad-argument',
          `${file}: plain-text samples need the model's vocabulary to be tokenised; give --vocab-file FILE (one token per line, the line number is the id)`,
          file,
        );
      usedVocab = true;
      const pad = vocab.pad ?? 0;
      new TextDecoder()
        .decode(buf)
        .split('\n')
        .forEach((line, i) => {
          if (line.length > MAX_TEXT_SAMPLE_CHARS)
            throw new InputError(
              'too-large',
              `${file}:${i + 1}: a text of ${line.length} characters (limit ${MAX_TEXT_SAMPLE_CHARS}); one text per line`,
              file,
            );
          if (!line.trim()) return;
          const ids = tokeniseText(line, vocab, `${file}:${i + 1}`);
          if (ids.length > 0) rows.push(padIds(ids, seq, pad));
        });
    }
    for (let r = from; r < rows.length; r++) {
      const bad = rows[r].findIndex((v) => v < 0 || v >= vocabSize);
      if (bad >= 0)
        throw new InputError(
          'unsupported-input',
          `${file}: text ${r - from + 1} holds token id ${rows[r][bad]}, outside the model's vocabulary of ${vocabSize} ids (0..${vocabSize - 1})`,
          file,
        );
    }
  }
  if (rows.length === 0)
    throw new InputError('bad-argument', `${source}: the probe samples hold no texts`, source);
  if (usedVocab && vocab) hash.update('vocab').update(vocab.digest);
  return { rows, digest: hash.digest('hex'), files: names };
}
