/**
 * The fallback when the check run cannot be written (read-only fork token, missing `checks: write`):
 * the same per-model annotations as workflow commands (::error file=...::), which need no permission and
 * still show on the PR's "Files changed" tab and the run page.
 */
import type { AnnotationProperties } from '@actions/core';
import type { ModelAnnotation } from './annotations.js';

export interface AnnotationSink {
  error(message: string, props?: AnnotationProperties): void;
  warning(message: string, props?: AnnotationProperties): void;
  notice(message: string, props?: AnnotationProperties): void;
}

export function emitWorkflowAnnotations(sink: AnnotationSink, annotations: ModelAnnotation[]): void {
  for (const a of annotations) {
    const props: AnnotationProperties = { file: a.path, startLine: 1, title: a.title };
    if (a.level === 'failure') sink.error(a.message, props);
    else if (a.level === 'warning') sink.warning(a.message, props);
    else sink.notice(a.message, props);
  }
}
