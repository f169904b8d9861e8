/** The tool's name and version, written into every fingerprint, baseline and report. */
export const TOOL_NAME = 'model-fingerprint';
export const TOOL_VERSION = '0.1.0';
