/**
 * Collects what trigger probing found (ScanOptions.onEvidence) for the models a report shows pictures of:
 * medium and high only, so a scan of many clean models keeps no inputs in memory.
 */
import { isFinding } from '../report/levels.js';
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import type { EvidenceSink } from './api.js';

export interface EvidenceCollector {
  sink: EvidenceSink;
  /** By the path the scan was given. */
  byPath: Map<string, TriggerEvidence>;
}

export function collectFlaggedEvidence(): EvidenceCollector {
  const byPath = new Map<string, TriggerEvidence>();
  return {
    byPath,
    sink: (path, evidence, level) => {
      if (isFinding(level)) byPath.set(path, evidence);
    },
  };
}
