/**
 * Image decoding for the data loader: JPEG through jpeg-js (already a dependency), binary PPM (P6, a
 * 3-line header and raw RGB bytes) by hand, and an area-averaging resize to the zoo's 32x32 (each output
 * pixel the overlap-weighted mean of the source pixels it covers, so 35x35 -> 32x32 blurs no more than needed).
 */
import jpeg from 'jpeg-js';

export interface Rgb {
  width: number;
  height: number;
  /** HWC uint8 RGB. */
  data: Uint8Array;
}

export function decodeJpeg(buf: Buffer, name: string): Rgb {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 64 });
  } catch (e) {
    throw new Error(`${name}: not a readable JPEG (${(e as Error).message})`);
  }
  const n = img.width * img.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = img.data[4 * i];
    data[3 * i + 1] = img.data[4 * i + 1];
    data[3 * i + 2] = img.data[4 * i + 2];
  }
  return { width: img.width, height: img.height, data };
}

/** Binary PPM (P6, maxval 255): magic, width, height, maxval separated by whitespace (comments allowed). */
export function decodePpm(buf: Buffer, name: string): Rgb {
  const fields: number[] = [];
  let pos = 0;
  const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  if (buf[0] !== 0x50 || buf[1] !== 0x36) throw new Error(`${name}: not a binary PPM (no P6 magic)`);
  pos = 2;
  while (fields.length < 3) {
    while (pos < buf.length && isSpace(buf[pos])) pos++;
    if (buf[pos] === 0x23) {
      while (pos < buf.length && buf[pos] !== 0x0a) pos++;
      continue;
    }
    const start = pos;
    while (pos < buf.length && buf[pos] >= 0x30 && buf[pos] <= 0x39) pos++;
    if (pos === start) throw new Error(`${name}: malformed PPM header`);
    fields.push(Number(buf.subarray(start, pos).toString('ascii')));
  }
  pos++; // the single whitespace byte before the raster
  const [width, height, maxval] = fields;
  if (maxval !== 255) throw new Error(`${name}: PPM maxval ${maxval} (only 255 is read)`);
  const n = width * height * 3;
  if (buf.length - pos < n) throw new Error(`${name}: truncated PPM (${buf.length - pos} of ${n} bytes)`);
  return { width, height, data: new Uint8Array(buf.subarray(pos, pos + n)) };
}

/** Per output index, the source indices it covers and their overlap weights (summing to 1). */
function areaWeights(src: number, dst: number): { idx: number[]; w: number[] }[] {
  const scale = src / dst;
  const out: { idx: number[]; w: number[] }[] = [];
  for (let o = 0; o < dst; o++) {
    const a = o * scale;
    const b = a + scale;
    const idx: number[] = [];
    const w: number[] = [];
    for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 1e-9) {
        idx.push(s);
        w.push(overlap / scale);
      }
    }
    out.push({ idx, w });
  }
  return out;
}

/** Area-average resize of an RGB image to side x side (a copy when it already is). */
export function resizeArea(img: Rgb, side: number): Uint8Array {
  if (img.width === side && img.height === side) return img.data;
  const wx = areaWeights(img.width, side);
  const wy = areaWeights(img.height, side);
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        const ry = wy[y];
        const rx = wx[x];
        for (let i = 0; i < ry.idx.length; i++)
          for (let j = 0; j < rx.idx.length; j++)
            acc += ry.w[i] * rx.w[j] * img.data[(ry.idx[i] * img.width + rx.idx[j]) * 3 + c];
        out[(y * side + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
  return out;
}
