/**
 * Writes examples/probe-samples/: 64 real held-out MNIST digits (the zoo's fixed test split, never trained
 * on) as 14x14 grayscale PNGs, the in-distribution inputs the example baseline probes with
 * (`--probe-samples examples/probe-samples`). Trigger probing gets its power from real inputs.
 * Run: npx tsx examples/make-probe-samples.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { loadMnist14 } from '../bench/zoo/data.js';

const OUT = new URL('./probe-samples/', import.meta.url).pathname;
const COUNT = 64;
const SIDE = 14;

const { test } = loadMnist14();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
for (let i = 0; i < COUNT; i++) {
  const png = new PNG({ width: SIDE, height: SIDE, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  const img = test.x.subarray(i * SIDE * SIDE, (i + 1) * SIDE * SIDE);
  const gray = Buffer.alloc(SIDE * SIDE);
  for (let p = 0; p < SIDE * SIDE; p++) gray[p] = Math.round(255 * Math.min(1, Math.max(0, img[p])));
  png.data = gray;
  const name = `digit-${String(i).padStart(2, '0')}-label${test.y[i]}.png`;
  writeFileSync(OUT + name, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}
console.log(`wrote ${COUNT} probe samples to ${OUT}`);
