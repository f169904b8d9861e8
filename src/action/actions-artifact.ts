/**
 * The ArtifactDep backed by @actions/artifact, the maintained client of the workflow artifact service (the
 * one actions/upload-artifact uses). It needs the runner's ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL;
 * without them it throws, and the caller turns that into a warning.
 */
import { DefaultArtifactClient } from '@actions/artifact';
import type { ArtifactDep } from './artifact.js';

export const actionsArtifact: ArtifactDep = {
  async upload(name, files, rootDir) {
    const { id } = await new DefaultArtifactClient().uploadArtifact(name, files, rootDir);
    return { id };
  },
};
