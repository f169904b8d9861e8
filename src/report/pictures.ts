/**
 * The report directory (`scan --report-dir DIR`, the action's `report-artifact`): per flagged (medium or
 * high) model with trigger evidence a PNG of the suspected trigger stamped on a few inputs and a PNG of the
 * patch map of each suspected class, and one self-contained HTML page (src/report/html.ts) with the table
 * and the same pictures inlined. Pure: the report and the evidence in, file names and bytes out; the
 * caller writes them (src/util/write-files.ts).
 */
import { isFinding } from './levels.js';
import type { TriggerEvidence } from '../selfcheck/evidence.js';
import { partitionModels } from './describe.js';
import { renderHeatmapPicture } from './heatmap-picture.js';
import { renderHtml, type ModelPictures } from './html.js';
import { renderTriggerPicture } from './trigger-picture.js';
import type { ScanReport, ScannedModel } from './types.js';

/** What trigger probing found, by model path as the report names it (ScanOptions.onEvidence collects it). */
export type EvidenceByPath = ReadonlyMap<string, TriggerEvidence>;

/** The HTML page's file name in the report directory. */
export const REPORT_HTML = 'index.html';
/** Longest model-name part of a picture's file name. */
const MAX_NAME_CHARS = 60;

export interface ReportFile {
  /** A plain file name (no directory part). */
  name: string;
  data: Buffer | string;
}

/** A model is shown with pictures when it is not low: the models a reviewer has to decide about. */
export function wantsPictures(m: ScannedModel): boolean {
  return isFinding(m.riskLevel);
}

/**
 * The classes the pictures show for a model: the one its explanation names (trigger probing's, or the
 * patch map's when the map decided the verdict) and trigger probing's own when that differs.
 */
export function suspectedClasses(m: ScannedModel, e: TriggerEvidence): number[] {
  const named = m.explanation.suspectedTargetClass;
  const out = named !== undefined && named >= 0 && named < e.classes ? [named] : [];
  if (!out.includes(e.targetClass)) out.push(e.targetClass);
  return out;
}

/** A file-name-safe form of a model path's last part: letters, digits, '.', '_' and '-' only. */
export function fileStem(path: string): string {
  const base = path.split(/[/\\]/).pop() ?? '';
  const safe = base
    .replace(/\.onnx$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_NAME_CHARS);
  return safe || 'model';
}

/** The report directory's files: the pictures of each flagged model with evidence, then index.html. */
export function renderReportDir(report: ScanReport, evidence: EvidenceByPath): ReportFile[] {
  const files: ReportFile[] = [];
  const pictures = new Map<string, ModelPictures>();
  partitionModels(report)
    .scanned.filter(wantsPictures)
    .forEach((m, i) => {
      const e = evidence.get(m.path);
      if (!e) return;
      const stem = `${String(i + 1).padStart(2, '0')}-${fileStem(m.path)}`;
      const trigger = { name: `${stem}-trigger.png`, png: renderTriggerPicture(e) };
      files.push({ name: trigger.name, data: trigger.png });
      const classes = suspectedClasses(m, e);
      let map: ModelPictures['map'] = null;
      if (e.map && e.map.values.length > 0) {
        map = { name: `${stem}-patch-map.png`, png: renderHeatmapPicture({ ...e, map: e.map }, classes) };
        files.push({ name: map.name, data: map.png });
      }
      pictures.set(m.path, { evidence: e, classes, trigger, map });
    });
  files.push({ name: REPORT_HTML, data: renderHtml(report, pictures) });
  return files;
}
