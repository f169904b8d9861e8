/**
 * The default ensemble's channel selection (src/baseline/config.ts): which blocks it reads (raw hidden
 * activations never), which detector each block gets (self-check scalars through identity only), the
 * small-baseline detector switch, neighbour counts a cross-fitting fold can hold, and that the chosen
 * config fits and scores through the real ensemble.
 */
import {
  baselineEnsembleConfig,
  DEFAULT_DETECTORS,
  detectorParams,
  detectorsForBlock,
  selectBlocks,
  selectChannels,
  MAX_Z_MAX_FEATURES,
  SEPARATE_TEST_CHANNELS,
  TRIGGER_MAP_BLOCK,
  TRIGGER_MAP_MAD_FLOOR,
  TOKEN_GAIN_MAP_BLOCK,
  TOKEN_GAIN_MAP_MAD_FLOOR,
  SMALL_BASELINE_DETECTORS,
  SMALL_BASELINE_REFERENCES,
} from '../../src/baseline/config.js';
import { Rng } from '../../src/probes/rng.js';
import { EMBEDDING_BLOCK } from '../../src/fingerprint/embedding-stats.js';
import { fitEnsemble, scoreEnsemble } from '../../src/score/ensemble.js';

const SIZES: Record<string, number> = {
  logits: 640,
  'softmax-stats': 30,
  'gram:L-2': 2080,
  'gram:L-1': 2080,
  'sorted:L-1': 1024,
  'raw:L-1': 2048,
  'raw:L-2': 4096,
  'weights:final': 70,
  'weights:layers': 9,
  'self:weight-outlier': 1,
  'self:trigger': 1,
  trigger: 10,
  'naive-raw-first': 4096,
};

describe('selectBlocks', () => {
  it('never selects raw:* blocks, even when a prefix list asks for them', () => {
    expect(selectBlocks(Object.keys(SIZES)).some((n) => n.startsWith('raw:'))).toBe(false);
    expect(selectBlocks(Object.keys(SIZES), ['raw:', 'logits'])).toEqual(['logits']);
  });

  it('matches a name without a colon exactly and a name with a colon as a prefix', () => {
    expect(
      selectBlocks(['logits', 'logits-extra', 'gram:L-1', 'gram:L-2', 'gramx'], ['logits', 'gram:']),
    ).toEqual(['gram:L-1', 'gram:L-2', 'logits']);
  });

  it('selects the self-check blocks and leaves out blocks nobody asked for', () => {
    const chosen = selectBlocks(Object.keys(SIZES));
    expect(chosen).toEqual(expect.arrayContaining(['self:weight-outlier', 'self:trigger', 'logits']));
    expect(chosen).not.toContain('naive-raw-first');
  });
});

describe('selectChannels', () => {
  it('sends self-check scalars through identity only and every other block through each detector', () => {
    const ch = selectChannels(SIZES, 80);
    const self = ch.filter((c) => c.representation.startsWith('self:'));
    expect(self.map((c) => c.detector)).toEqual(['identity', 'identity']);
    const multi = ch.filter((c) => !c.representation.startsWith('self:'));
    expect(multi.length).toBeGreaterThan(0);
    expect(multi.every((c) => c.detector !== 'identity')).toBe(true);
    const blocks = new Set(multi.map((c) => c.representation));
    for (const b of blocks) {
      expect(multi.filter((c) => c.representation === b).map((c) => c.detector)).toEqual(
        DEFAULT_DETECTORS.filter((d) => d !== 'identity'),
      );
    }
    expect(ch.some((c) => c.representation.startsWith('raw:'))).toBe(false);
  });

  it('puts a multi-value channel first (nearest references are computed on it)', () => {
    const ch = selectChannels(SIZES, 80);
    expect(ch[0].detector).not.toBe('identity');
    const firstIdentity = ch.findIndex((c) => c.detector === 'identity');
    expect(ch.slice(firstIdentity).every((c) => c.detector === 'identity')).toBe(true);
  });

  it('leaves max_z out of blocks wider than MAX_Z_MAX_FEATURES (its cost grows with the width)', () => {
    expect(DEFAULT_DETECTORS).toContain('max_z');
    const sizes = { logits: MAX_Z_MAX_FEATURES + 1, 'trigger-tiers': 240, 'self:trigger': 1 };
    const ch = selectChannels(sizes, 80);
    const of = (b: string) => ch.filter((c) => c.representation === b).map((c) => c.detector);
    expect(of('logits')).toEqual(DEFAULT_DETECTORS.filter((d) => d !== 'max_z'));
    expect(of('trigger-tiers')).toEqual(DEFAULT_DETECTORS);
  });

  it('adds the patch map as a separate test, last, whatever its width, only with enough references', () => {
    const sizes = { ...SIZES, [TRIGGER_MAP_BLOCK]: 5340 };
    const ch = selectChannels(sizes, 80);
    const last = ch[ch.length - 1];
    expect(last).toEqual({
      representation: TRIGGER_MAP_BLOCK,
      detector: 'max_z',
      params: { madFloor: TRIGGER_MAP_MAD_FLOOR },
      separate: true,
    });
    expect(ch.filter((c) => c.representation === TRIGGER_MAP_BLOCK)).toHaveLength(1);
    // an image fingerprint has no embedding block: the map is its one separate test
    expect(ch.filter((c) => c.separate)).toHaveLength(1);
    // a text model's fingerprint made before the gain map: the token map and the embedding norms
    const text = selectChannels({ ...sizes, [EMBEDDING_BLOCK]: 3000 }, 80);
    expect(text.filter((c) => c.separate).map((c) => c.representation)).toEqual([
      TRIGGER_MAP_BLOCK,
      EMBEDDING_BLOCK,
    ]);
    // with the token gain map, the gain map's test replaces the token map's (3 tests would cost power)
    const gained = selectChannels({ ...sizes, [EMBEDDING_BLOCK]: 3000, [TOKEN_GAIN_MAP_BLOCK]: 18000 }, 80);
    expect(gained.filter((c) => c.separate)).toEqual([
      {
        representation: TOKEN_GAIN_MAP_BLOCK,
        detector: 'max_z',
        params: { madFloor: TOKEN_GAIN_MAP_MAD_FLOOR },
        separate: true,
      },
      SEPARATE_TEST_CHANNELS.find((c) => c.representation === EMBEDDING_BLOCK),
    ]);
    expect(selectChannels(sizes, 80, { separateTests: false }).some((c) => c.separate)).toBe(false);
    expect(selectChannels(sizes, SMALL_BASELINE_REFERENCES - 1).some((c) => c.separate)).toBe(false);
    // no map block (an older fingerprint, or a budget too short for the sweep): no separate test
    expect(selectChannels(SIZES, 80).some((c) => c.separate)).toBe(false);
  });

  it('switches to the small-baseline detectors below the threshold', () => {
    const small = selectChannels(SIZES, SMALL_BASELINE_REFERENCES - 1);
    const dets = new Set(small.filter((c) => c.detector !== 'identity').map((c) => c.detector));
    expect([...dets].sort()).toEqual([...SMALL_BASELINE_DETECTORS].sort());
  });

  it('gives a block its own detectors when a per-block choice names it, the others keep theirs', () => {
    const sizes = { ...SIZES, 'trigger-tiers': 240 };
    const ch = selectChannels(sizes, 80, {
      prefixes: ['logits', 'trigger', 'trigger-tiers', 'self:'],
      detectors: ['knn', 'ocsvm'],
      blockDetectors: { 'trigger-tiers': ['max_z'] },
    });
    const of = (b: string) => ch.filter((c) => c.representation === b).map((c) => c.detector);
    expect(of('trigger-tiers')).toEqual(['max_z']);
    expect(of('trigger')).toEqual(['knn', 'ocsvm']);
    expect(of('logits')).toEqual(['knn', 'ocsvm']);
    expect(of('self:trigger')).toEqual(['identity']);
    // exact names match exactly ("trigger" is not a prefix of "trigger-tiers"), "x:" names match as prefixes
    expect(detectorsForBlock('trigger-tiers', ['knn'], { trigger: ['lof'] })).toEqual(['knn']);
    expect(detectorsForBlock('gram:L-1', ['knn'], { 'gram:': ['lof'] })).toEqual(['lof']);
  });

  it('caps neighbour counts to what a cross-fitting fold holds', () => {
    expect(detectorParams('knn', 6)).toEqual({ k: 4 });
    expect(detectorParams('knn', 80)).toEqual({ k: 5 });
    // 20 references, 10 folds: 18 rows train each fold, LOF may use at most 17 neighbours
    expect(detectorParams('lof', 20)).toEqual({ k: 17 });
    expect(detectorParams('lof', 80)).toEqual({ k: 20 });
    expect(detectorParams('ocsvm', 80)).toEqual({});
  });
});

describe('baselineEnsembleConfig', () => {
  it('fits and scores through the real ensemble; a shifted model gets a smaller p-value', () => {
    const rng = new Rng('detect-config-test');
    const make = (shift: number): Record<string, Float32Array> => ({
      logits: Float32Array.from({ length: 40 }, () => rng.normal() + shift),
      'weights:final': Float32Array.from({ length: 12 }, () => rng.normal()),
      'raw:L-1': Float32Array.from({ length: 16 }, () => rng.normal()),
      'self:weight-outlier': Float32Array.of(rng.normal()),
    });
    const refs = Array.from({ length: 30 }, () => make(0));
    const config = baselineEnsembleConfig(refs[0], refs.length);
    expect(config.channels.some((c) => c.representation === 'raw:L-1')).toBe(false);
    const state = fitEnsemble(
      refs,
      refs.map((_, i) => `m${i}`),
      config,
    );
    const clean = scoreEnsemble(state, make(0));
    const shifted = scoreEnsemble(state, make(3));
    expect(shifted.pValue).toBeLessThan(clean.pValue);
    expect(shifted.riskScore).toBeGreaterThan(60);
  });
});
