/**
 * Limits imposed by the GitHub REST API and the Actions runner (not by this tool): annotation batch size,
 * check-run text sizes, the file caps of the pull-request and compare endpoints. Named here so the code
 * that trims or batches says which limit it honours.
 */

/** Check runs accept at most 50 annotations per create/update request; further ones go in later updates. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
/** Check-run output title and annotation title: 255 characters. */
export const MAX_CHECK_TITLE_CHARS = 255;
/** Check-run output summary and text: 65535 characters. */
export const MAX_CHECK_SUMMARY_CHARS = 65_535;
/** Annotation message and raw_details: 64 KB each. */
export const MAX_ANNOTATION_TEXT_BYTES = 64 * 1024;
/** Issue comment bodies: 65536 characters. */
export const MAX_COMMENT_BODY_CHARS = 65_536;
/** The job summary of one step is refused above 1 MiB. */
export const MAX_JOB_SUMMARY_BYTES = 1024 * 1024;
/** GET /pulls/{n}/files lists at most 3000 files, whatever the pagination. */
export const PULL_FILES_API_CAP = 3000;
/** GET /compare/{basehead} returns at most 300 files. */
export const COMPARE_FILES_API_CAP = 300;
/** Largest page size of the list endpoints used here. */
export const API_PAGE_SIZE = 100;
/** Retries of a transient API failure (5xx) before reporting gives up. */
export const API_MAX_RETRIES = 3;
/** Retries after a (secondary) rate limit before reporting gives up. */
export const API_MAX_RATE_LIMIT_RETRIES = 2;
