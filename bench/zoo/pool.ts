/**
 * A small pool of training processes (child_process.fork of worker.ts, one per core): hands out model specs
 * one at a time and calls back with each result. Child processes rather than threads because each needs its
 * own TensorFlow.js engine and WASM instance; fork() reuses the parent's exec flags, so the tsx loader the
 * parent runs under carries over.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BuiltModel } from './build-model.js';
import type { ModelSpec } from './plan.js';

export interface JobMessage {
  spec: ModelSpec;
  outPath: string;
}

export type Measures = Omit<BuiltModel, 'bytes'>;

export type ResultMessage =
  | { id: string; ok: true; backend: string; measures: Measures }
  | { id: string; ok: false; backend: string; error: string };

type ReadyMessage = { ready: true; backend: string };

export interface PoolJob {
  spec: ModelSpec;
  outPath: string;
}

export class WorkerPool {
  private readonly children: Promise<{ child: ChildProcess; backend: string }>[] = [];

  constructor(size: number) {
    const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url));
    for (let i = 0; i < size; i++) {
      const child = fork(workerFile, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      this.children.push(
        new Promise((resolve, reject) => {
          child.once('message', (m: ReadyMessage) => resolve({ child, backend: m.backend }));
          child.once('exit', (code) => reject(new Error(`zoo worker exited early (code ${code})`)));
        }),
      );
    }
  }

  /** The backend the workers run on. */
  async backend(): Promise<string> {
    return (await this.children[0]).backend;
  }

  /**
   * Runs every job; `onResult` is called as each finishes (in completion order) and may push more jobs onto
   * `jobs` (a retry): the worker that reported picks them up.
   */
  async run(jobs: PoolJob[], onResult: (job: PoolJob, result: ResultMessage) => void): Promise<void> {
    let next = 0;
    const workers = await Promise.all(this.children);
    await Promise.all(
      workers.map(async ({ child }) => {
        while (next < jobs.length) {
          const job = jobs[next++];
          const result = await new Promise<ResultMessage>((resolve, reject) => {
            const onExit = (code: number | null) =>
              reject(new Error(`zoo worker died on ${job.spec.id} (code ${code})`));
            child.once('exit', onExit);
            child.once('message', (m: ResultMessage) => {
              child.off('exit', onExit);
              resolve(m);
            });
            child.send({ spec: job.spec, outPath: job.outPath } satisfies JobMessage);
          });
          onResult(job, result);
        }
      }),
    );
  }

  async close(): Promise<void> {
    for (const p of this.children) {
      const { child } = await p.catch(() => ({ child: null }));
      child?.kill();
    }
  }
}
