/**
 * User-supplied probe samples: a folder of .npy (float32/float64/uint8), .png or .jpg/.jpeg files, each turned
 * into one or more probes of the model's input shape. Images are centre-cropped to the input's aspect ratio,
 * resized bilinearly, converted to the input's channel count (1 = luma, 3 = RGB) and layout (CHW when the
 * first dim is 1 or 3, otherwise HWC), and scaled from [0, 255] to the probe range. uint8 .npy files are scaled
 * the same way; float .npy files are taken as already in the model's input space and must match its size.
 * Files are read in sorted name order; the digest of their bytes enters the probe-set hash.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import { MAX_PROBE_ELEMENTS } from '../limits.js';

/** Most sample files read from one folder. */
export const MAX_SAMPLE_FILES = 4096;
/** Largest decoded image accepted (pixels), checked before decoding allocates. */
export const MAX_SAMPLE_IMAGE_PIXELS = 64 * 1024 * 1024;

export interface LoadedSamples {
  /** One Float32Array of prod(sampleShape) values per sample. */
  samples: Float32Array[];
  digest: string;
  files: string[];
}

export interface Layout {
  channels: number;
  height: number;
  width: number;
  chw: boolean;
}

/**
 * How an image maps onto a per-probe shape: CHW when the first dim is 1 or 3, HWC when the last is, rank 2
 * (and a square flat vector) one channel; null when no image fits. Also the channel rule of the input
 * normalisation (normalize.ts channelLayout), so samples and normalisation agree on which axis is colour.
 */
export function imageLayout(shape: number[]): Layout | null {
  if (shape.length === 3) {
    if (shape[0] === 1 || shape[0] === 3)
      return { channels: shape[0], height: shape[1], width: shape[2], chw: true };
    if (shape[2] === 1 || shape[2] === 3)
      return { channels: shape[2], height: shape[0], width: shape[1], chw: false };
  }
  if (shape.length === 2) return { channels: 1, height: shape[0], width: shape[1], chw: true };
  if (shape.length === 1) {
    const s = Math.round(Math.sqrt(shape[0]));
    if (s * s === shape[0]) return { channels: 1, height: s, width: s, chw: true };
  }
  return null;
}

function layoutOf(shape: number[], file: string): Layout {
  const layout = imageLayout(shape);
  if (layout) return layout;
  throw new InputError(
    'unsupported-input',
    `${file}: an image cannot be fitted to the model input shape [${shape.join(',')}]; give .npy samples of that shape instead`,
    file,
  );
}

/** RGBA pixels -> probe values (cropped, resized, channel-converted, scaled to range). */
function imageToProbe(
  rgba: Uint8Array,
  w: number,
  h: number,
  lay: Layout,
  range: [number, number],
): Float32Array {
  const targetAspect = lay.width / lay.height;
  let cw = w;
  let ch = h;
  if (w / h > targetAspect) cw = Math.max(1, Math.round(h * targetAspect));
  else ch = Math.max(1, Math.round(w / targetAspect));
  const x0 = (w - cw) / 2;
  const y0 = (h - ch) / 2;
  const out = new Float32Array(lay.channels * lay.height * lay.width);
  const [lo, hi] = range;
  const px = (x: number, y: number, c: number) => rgba[(y * w + x) * 4 + c];
  for (let r = 0; r < lay.height; r++) {
    const sy = Math.min(h - 1, Math.max(0, y0 + ((r + 0.5) * ch) / lay.height - 0.5));
    const ya = Math.floor(sy);
    const yb = Math.min(h - 1, ya + 1);
    const fy = sy - ya;
    for (let q = 0; q < lay.width; q++) {
      const sx = Math.min(w - 1, Math.max(0, x0 + ((q + 0.5) * cw) / lay.width - 0.5));
      const xa = Math.floor(sx);
      const xb = Math.min(w - 1, xa + 1);
      const fx = sx - xa;
      const rgb = [0, 1, 2].map(
        (c) =>
          (px(xa, ya, c) * (1 - fx) + px(xb, ya, c) * fx) * (1 - fy) +
          (px(xa, yb, c) * (1 - fx) + px(xb, yb, c) * fx) * fy,
      );
      const vals = lay.channels === 1 ? [0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]] : rgb;
      vals.forEach((v, c) => {
        const idx = lay.chw ? (c * lay.height + r) * lay.width + q : (r * lay.width + q) * lay.channels + c;
        out[idx] = lo + ((hi - lo) * v) / 255;
      });
    }
  }
  return out;
}

/** A .npy file's header fields and the bytes after it (format 1.0-3.0, C order). */
export interface NpyArray {
  descr: string;
  shape: number[];
  /** Elements (the product of the shape). */
  count: number;
  body: Uint8Array;
}

/** Parses a .npy header (format 1.0-3.0); refuses Fortran order and data shorter than its shape. */
export function parseNpyHeader(buf: Uint8Array, file: string, bytesPer: (descr: string) => number): NpyArray {
  const bad = (why: string): never => {
    throw new InputError(
      'unsupported-input',
      `${file}: unreadable .npy sample (${why}); save it with numpy.save`,
      file,
    );
  };
  if (buf.length < 10 || buf[0] !== 0x93 || String.fromCharCode(...buf.subarray(1, 6)) !== 'NUMPY')
    bad('bad magic');
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 + hlen : 12 + hlen;
  if (start > buf.length) bad('header past end of file');
  const header = new TextDecoder().decode(buf.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) bad('header');
  if (fortran === 'True') bad('Fortran order');
  const shape = (shapeText as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad('shape');
  const count = shape.reduce((a, b) => a * b, 1);
  const body = buf.subarray(start);
  if (body.length < count * bytesPer(descr as string)) bad('data shorter than its shape');
  return { descr: descr as string, shape, count, body };
}

/** Parses a .npy file (format 1.0-3.0, C order) into values and shape. */
export function parseNpy(
  buf: Uint8Array,
  file: string,
): { values: Float32Array; shape: number[]; uint8: boolean } {
  const sizeOf = (descr: string): number => {
    if (descr === '<f4') return 4;
    if (descr === '<f8') return 8;
    if (descr === '|u1') return 1;
    throw new InputError(
      'unsupported-input',
      `${file}: unreadable .npy sample (dtype ${descr}; use float32 or uint8); save it with numpy.save`,
      file,
    );
  };
  const { descr, shape, count: n, body } = parseNpyHeader(buf, file, sizeOf);
  const size = sizeOf(descr);
  const bdv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    values[i] = size === 4 ? bdv.getFloat32(i * 4, true) : size === 8 ? bdv.getFloat64(i * 8, true) : body[i];
  }
  return { values, shape, uint8: size === 1 };
}

/** The sample files of a folder that are read, in the order they are read (sorted names, at most MAX_SAMPLE_FILES). */
export function listSampleFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.(npy|png|jpe?g)$/i.test(n))
      .sort();
  } catch {
    throw new InputError('not-found', `${dir}: the probe samples folder does not exist`, dir);
  }
  if (names.length === 0) {
    throw new InputError(
      'bad-argument',
      `${dir}: no .npy, .png or .jpg samples in the probe samples folder`,
      dir,
    );
  }
  return names.slice(0, MAX_SAMPLE_FILES);
}

/** Loads the samples in `dir` for an input of per-probe shape `sampleShape`. */
export function loadSamples(dir: string, sampleShape: number[], range: [number, number]): LoadedSamples {
  const names = listSampleFiles(dir);
  const per = sampleShape.reduce((a, b) => a * b, 1);
  if (per > MAX_PROBE_ELEMENTS)
    throw new InputError('too-large', `${dir}: probes of ${per} elements are too large`, dir);
  const hash = createHash('sha256');
  const samples: Float32Array[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const buf = new Uint8Array(readFileSync(file));
    hash.update(name).update(buf);
    if (/\.npy$/i.test(name)) {
      const { values, uint8 } = parseNpy(buf, file);
      if (values.length === 0 || values.length % per !== 0) {
        throw new InputError(
          'unsupported-input',
          `${file}: ${values.length} values do not make whole probes of shape [${sampleShape.join(',')}]`,
          file,
        );
      }
      const [lo, hi] = range;
      for (let k = 0; k < values.length / per; k++) {
        const s = values.slice(k * per, (k + 1) * per);
        if (uint8) for (let i = 0; i < s.length; i++) s[i] = lo + ((hi - lo) * s[i]) / 255;
        samples.push(s);
      }
      continue;
    }
    const lay = layoutOf(sampleShape, file);
    try {
      if (/\.png$/i.test(name)) {
        const png = PNG.sync.read(Buffer.from(buf));
        samples.push(imageToProbe(new Uint8Array(png.data), png.width, png.height, lay, range));
      } else {
        const img = jpeg.decode(buf, {
          useTArray: true,
          formatAsRGBA: true,
          maxResolutionInMP: MAX_SAMPLE_IMAGE_PIXELS / 1e6,
        });
        samples.push(imageToProbe(img.data, img.width, img.height, lay, range));
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(
        'unsupported-input',
        `${file}: cannot decode the image sample (${String(e)})`,
        file,
      );
    }
  }
  return { samples, digest: hash.digest('hex'), files: names };
}
