import { describeChannel } from '../../src/scan/explain.js';
import { DETECTOR_NAMES } from '../../src/detect/detector.js';
import { DEFAULT_BLOCK_PREFIXES } from '../../src/baseline/config.js';

describe('describeChannel: channels in words for the PR comment and the terminal table', () => {
  test('the shipped default channels read as plain words, not ids', () => {
    expect(describeChannel('ocsvm', 'trigger-tiers')).toBe(
      'response to stamped triggers by strength, one-class SVM',
    );
    expect(describeChannel('knn', 'logits')).toBe('class scores on the probes, nearest-neighbour distance');
    expect(describeChannel('max_z', 'softmax-stats')).toBe(
      'confidence on the probes, largest per-feature deviation',
    );
    expect(describeChannel('identity', 'self:trigger')).toBe('trigger probing score');
    expect(describeChannel('trigger-probe', 'self:trigger')).toBe('trigger probing, reference-free');
  });

  test('layer blocks name their layer', () => {
    expect(describeChannel('lof', 'gram:/layers.2/Relu_output_0')).toBe(
      'activation similarity at /layers.2/Relu_output_0, local outlier factor',
    );
    expect(describeChannel('knn', 'sorted:fc1')).toBe(
      'activation distribution at fc1, nearest-neighbour distance',
    );
  });

  test('every registered detector has words, and no default block falls back to ids', () => {
    for (const d of DETECTOR_NAMES) {
      const text = describeChannel(d, 'logits');
      expect({ d, text }).toEqual({ d, text: expect.stringMatching(/^class scores on the probes/) });
      // not the fallback ", <id>" (autoencoder's words may still contain the word autoencoder)
      if (d !== 'identity') {
        expect({ d, fallback: text.endsWith(`, ${d.replace(/_/g, '-')}`) }).toEqual({ d, fallback: false });
      }
    }
    for (const b of DEFAULT_BLOCK_PREFIXES.filter((p) => !p.endsWith(':'))) {
      expect(describeChannel('knn', b)).not.toBe(`knn on ${b}`);
    }
  });

  test('an unknown block or detector (a newer baseline) falls back to "detector on block"', () => {
    expect(describeChannel('knn', 'future-block')).toBe('knn on future-block');
    expect(describeChannel('new_detector', 'logits')).toBe('class scores on the probes, new-detector');
  });
});
