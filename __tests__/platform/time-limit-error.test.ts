import { formatLimitSeconds, timeLimitError } from '../../src/time-limit-error.js';

describe('timeLimitError', () => {
  test('every stage writes the limit one way and names the file, the stage and its fix', () => {
    const probing = timeLimitError('m.onnx', 'probing', 120_000);
    expect(probing.code).toBe('timeout');
    expect(probing.file).toBe('m.onnx');
    expect(probing.message).toMatch(
      /^m\.onnx: fingerprinting took longer than the 120 s limit \(probing\); .*--time-limit SECONDS.*, or use fewer probes$/,
    );
    expect(timeLimitError('m.onnx', 'trigger probing', 2500).message).toMatch(
      /the 2\.5 s limit \(trigger probing\);.*, or give a smaller --budget$/,
    );
    expect(timeLimitError('m.onnx', 'weight statistics', 3000).message).toMatch(
      /the 3 s limit \(weight statistics\); [^,]*--time-limit SECONDS[^)]*\)$/,
    );
  });

  test('seconds: whole at 10 s and above, one decimal below, no trailing .0', () => {
    expect(formatLimitSeconds(120_000)).toBe('120');
    expect(formatLimitSeconds(10_400)).toBe('10');
    expect(formatLimitSeconds(9_960)).toBe('10');
    expect(formatLimitSeconds(2_500)).toBe('2.5');
    expect(formatLimitSeconds(1_000)).toBe('1');
    expect(formatLimitSeconds(0)).toBe('0');
  });
});
