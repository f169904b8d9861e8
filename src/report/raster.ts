/**
 * A small RGB drawing surface for the report's pictures: filled and outlined rectangles, a model input
 * drawn nearest-neighbour upscaled (so a 14x14 digit stays a grid of visible pixels), and text in a pixel
 * font (js-pixel-fonts' "Seven Plus", printable ASCII), encoded as PNG by pngjs. Pure: no I/O. Written here
 * because the drawing needed is a few loops; the font and the PNG encoder come from packages.
 */
import pixelFonts from 'js-pixel-fonts';
import { PNG } from 'pngjs';
import type { ImageGeometry, ValueRange } from '../selfcheck/triggers.js';

export type Rgb = readonly [number, number, number];

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];

/** Font pixels are drawn this many screen pixels wide (the font's glyphs are 7 pixels tall). */
export const TEXT_SCALE = 2;
/** Height of one line of text at TEXT_SCALE, spacing included. */
export const TEXT_LINE = 9 * TEXT_SCALE;

const FONT = pixelFonts.fonts.sevenPlus;
/** PNG row filter 2 (Up). */
const PNG_FILTER_UP = 2;

/** Text the font can draw: printable ASCII, anything else as '?'. */
function ascii(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

function glyphs(s: string): number[][] {
  const text = ascii(s);
  return text === '' ? [] : (pixelFonts.renderPixels(text, FONT) as number[][]);
}

/** Width in screen pixels of `s` drawn at `scale`. */
export function textWidth(s: string, scale = TEXT_SCALE): number {
  return Math.max(0, ...glyphs(s).map((row) => row.length)) * scale;
}

export class Raster {
  /** RGBA bytes, row-major. */
  readonly data: Uint8Array;
  /** The same memory, one 32-bit word per pixel (filled with a colour packed in the machine's byte order). */
  private readonly pixels: Uint32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = WHITE,
  ) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new Error(`Raster: bad size ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.pixels = new Uint32Array(this.data.buffer);
    this.fillRect(0, 0, width, height, background);
  }

  /** A rectangle (clipped to the surface), row by row with a native fill of the packed colour. */
  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    const x0 = Math.max(0, Math.floor(x));
    const x1 = Math.min(this.width, Math.floor(x + w));
    const y0 = Math.max(0, Math.floor(y));
    const y1 = Math.min(this.height, Math.floor(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    const packed = new Uint32Array(Uint8Array.of(c[0], c[1], c[2], 255).buffer)[0];
    for (let j = y0; j < y1; j++) this.pixels.fill(packed, j * this.width + x0, j * this.width + x1);
  }

  /** An outline `t` pixels thick just inside the rectangle. */
  strokeRect(x: number, y: number, w: number, h: number, c: Rgb, t = 1): void {
    this.fillRect(x, y, w, t, c);
    this.fillRect(x, y + h - t, w, t, c);
    this.fillRect(x, y, t, h, c);
    this.fillRect(x + w - t, y, t, h, c);
  }

  /**
   * One model input (C x H x W values in `range`) at (x, y), every input pixel a `sx` x `sy` block:
   * three channels as RGB, one (or any other count: the first) as grey. Values outside the range are
   * clipped to it.
   */
  drawInput(
    values: ArrayLike<number>,
    g: ImageGeometry,
    range: ValueRange,
    x: number,
    y: number,
    sx: number,
    sy = sx,
  ): void {
    const hw = g.h * g.w;
    const level = (v: number): number => {
      const t = (v - range.lo) / (range.hi - range.lo);
      return Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)));
    };
    for (let py = 0; py < g.h; py++) {
      for (let px = 0; px < g.w; px++) {
        const i = py * g.w + px;
        const c: Rgb =
          g.c === 3
            ? [level(values[i]), level(values[hw + i]), level(values[2 * hw + i])]
            : [level(values[i]), level(values[i]), level(values[i])];
        this.fillRect(x + px * sx, y + py * sy, sx, sy, c);
      }
    }
  }

  /** Text with its top-left corner at (x, y); returns its width. */
  text(s: string, x: number, y: number, c: Rgb = BLACK, scale = TEXT_SCALE): number {
    const rows = glyphs(s);
    rows.forEach((row, j) =>
      row.forEach((on, i) => {
        if (on) this.fillRect(x + i * scale, y + j * scale, scale, scale, c);
      }),
    );
    return Math.max(0, ...rows.map((r) => r.length)) * scale;
  }

  /** Text centred on `cx`. */
  centredText(s: string, cx: number, y: number, c: Rgb = BLACK, scale = TEXT_SCALE): void {
    this.text(s, Math.round(cx - textWidth(s, scale) / 2), y, c, scale);
  }

  /**
   * The surface as PNG bytes (8-bit RGBA). One row filter, Up: the pictures are upscaled blocks, so most
   * rows repeat the one above and Up makes them zeros for deflate; pngjs's default tries all five filters
   * per row in JavaScript, measured 3-300x slower (300x under jest) for a file 2.6x smaller (21 KB vs 8 KB).
   */
  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(png, { filterType: PNG_FILTER_UP });
  }
}
