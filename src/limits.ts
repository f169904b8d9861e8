/**
 * Every size, time and count limit in one place. Model files come from untrusted pull requests: each limit
 * is checked before the allocation or work it guards.
 */

/** Largest model file read (bytes). Larger files are refused before they are read. */
export const MAX_MODEL_FILE_BYTES = 2 * 1024 ** 3;
/** Largest total of declared tensor elements across initializers (and external data). */
export const MAX_TOTAL_TENSOR_ELEMENTS = 600_000_000;
/** Memory budget for one probe batch: inputs plus captured activations (bytes). */
export const MAX_PROBE_BATCH_BYTES = 1024 ** 3;
/** Largest single dimension a model input may declare. */
export const MAX_INPUT_DIM = 16_384;
/** Largest number of elements in one probe (one input of batch size 1). */
export const MAX_PROBE_ELEMENTS = 16 * 1024 * 1024;
/**
 * Per-model time limit for fingerprinting (ms), plus the work the scan budget plans for the model at
 * MIN_MACS_PER_SECOND (src/fingerprint/budget.ts timeLimitFor).
 */
export const MODEL_TIME_LIMIT_MS = 120_000;
/**
 * Largest fixed allowance `--time-limit` (action input `time-limit`) accepts, in seconds: a day. The limit
 * exists to stop a runaway model; a day is longer than any CI job runs anyway.
 */
export const MAX_TIME_LIMIT_S = 86_400;
/** What a timeout error tells the user to do: machine load, not the model, is the usual cause. */
export const TIME_LIMIT_FIX = `on a slow or busy machine raise the fixed allowance (--time-limit SECONDS, action input time-limit; default ${MODEL_TIME_LIMIT_MS / 1000})`;
/** Default number of probes. */
export const DEFAULT_PROBE_COUNT = 64;
/**
 * Default probe batch size: the default probe set in one ONNX Runtime run, as a plain inference of the
 * batch would be (bench:speed measured 1.54x -> 1.45x of raw inference against 32). MAX_PROBE_BATCH_BYTES
 * still shrinks the batch for large inputs.
 */
export const DEFAULT_BATCH_SIZE = 64;
/** Largest graph (nodes) analysed. */
export const MAX_GRAPH_NODES = 100_000;
/** Model rows in the Markdown report (PR comment) before the table is cut: GitHub comments hold 65,536 characters. */
export const MARKDOWN_MAX_ROWS = 200;
/** Unscannable models listed in the Markdown report before the list is cut (same reason). */
export const MARKDOWN_MAX_FAILED = 50;
/**
 * Memory budget for a whole probe set (every probe of every input is generated up front): checked before
 * the probe arrays are allocated, so a model declaring a huge-but-legal input is refused, not run out of memory.
 */
export const MAX_PROBE_SET_BYTES = 1024 ** 3;
/** Longest error message kept for one model (names inside come from the model file and can be any length). */
export const MAX_ERROR_MESSAGE_CHARS = 1000;
/**
 * The scan budget settings (`--budget`, action input `budget`; src/fingerprint/budget.ts): the
 * multiply-accumulates trigger probing and its patch map may spend on one model, over all their forward
 * passes. A small model gets every check in full at any setting (the zoo's 14x14 models need 1e10); the
 * settings decide how much a large one gets. `default` gives a 32x32 ResNet-18 (5.6e8 a pass) 5,393 passes,
 * enough to screen every candidate trigger of a 32x32 input, in about a minute on a 2-core runner;
 * `thorough` gives a 224x224 ResNet-18 (1.8e9 a pass) the ~10,000 passes that screen every candidate of a
 * 224x224 input with 1000 classes, in about five minutes (bench/results/speed.md measures both).
 */
export const BUDGET_MACS = { fast: 1e12, default: 3e12, thorough: 2e13 } as const;

/**
 * Slowest compute rate the per-model time limit allows for the work a budget plans (multiply-accumulates
 * per second; this 2-core machine under a load of 16 still did 5e9): the limit is MODEL_TIME_LIMIT_MS plus
 * the planned work at this rate. It only stops a model whose real cost is far beyond its estimate.
 */
export const MIN_MACS_PER_SECOND = 2e9;

/**
 * The legacy plan's compute budget for reference-free trigger probing (baselines built before `--budget`
 * existed record no budget and are scanned with the plan that built them: src/fingerprint/budget.ts
 * LEGACY_SCAN_BUDGET), in multiply-accumulates of the former rough estimate over all its forward passes.
 */
export const TRIGGER_MAC_BUDGET = 1.6e10;

/**
 * Most user samples reference-free trigger probing stamps its triggers on (src/probes/generate.ts
 * pickTriggerSamples). More real inputs per candidate trigger lower the noise of the clean classes'
 * statistics (bench/results/selfcheck.md measures 128); the forward-pass budget, not this, bounds the time.
 */
export const MAX_TRIGGER_SAMPLES = 128;

/**
 * Most per-channel values `--input-mean` / `--input-std` (action inputs input-mean / input-std) take: image
 * inputs have 1, 3 or 4 channels; more than this is a mistyped list, refused before any model is read.
 */
export const MAX_NORMALIZE_CHANNELS = 16;

/**
 * Largest model file the action searches for a reference to a changed side file (external tensor data,
 * src/action/side-files.ts). A model that keeps its weights outside is small (PyTorch's exporter writes a
 * graph of kilobytes beside its `.onnx.data`); a larger one in the changed file's folder is scanned without
 * searching, since a gate scans too much rather than too little.
 */
export const SIDE_FILE_SEARCH_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The legacy plan's compute budget of the patch map's own pass (src/selfcheck/sweep.ts patchMap), on top of
 * TRIGGER_MAC_BUDGET: it bought the full 64 inputs on the zoo's 14x14 models, 33 on a 784-256-128 MLP over
 * 28x28 inputs, 10 on a LeNet-size CNN (bench/torch/findings.md). Only baselines without a recorded budget
 * are scanned with it (src/fingerprint/budget.ts). A model that affords no more than the sweep's own 8
 * inputs keeps the sweep's map on samples, and has none on a mined base (trigger-check.ts keptMap).
 */
export const MAP_MAC_BUDGET = 8e9;

/**
 * Largest integer tensor the gradient builder's shape inference folds to its values (src/model/grad/
 * shapes.ts): shape vectors, axes and pads hold a handful of numbers; a model's huge integer constant is
 * left unfolded, never copied.
 */
export const MAX_FOLDED_INT_ELEMENTS = 4096;

/**
 * Most nodes a gradient graph (forward, objective and backward together; src/model/grad/build.ts) may
 * hold. A backward rule writes up to about a dozen nodes per forward node; beyond this the builder stops
 * before ONNX Runtime is asked to load a graph of that size.
 */
export const MAX_GRADIENT_GRAPH_NODES = 400_000;
/** Largest vocabulary file read (`--vocab-file`, src/probes/vocab.ts): a 250,000-token BPE vocabulary is ~5 MB. */
export const MAX_VOCAB_FILE_BYTES = 64 * 1024 * 1024;
/** Most tokens a vocabulary file may hold (and the largest id a JSON vocabulary may give). */
export const MAX_VOCAB_ENTRIES = 4_000_000;
/** Longest line of a plain-text samples file (characters): a text longer than this is a mistake, not a sample. */
export const MAX_TEXT_SAMPLE_CHARS = 100_000;
/** Share of the token trigger budget that mining base texts may spend when no samples are given. */
export const TOKEN_MINE_BUDGET_SHARE = 0.25;

/**
 * Trigger inversion by optimisation (src/selfcheck/trigger-inversion.ts): gradient steps (one forward and
 * backward pass of a batch each) per candidate class. The whole run takes at most this times the number of
 * classes; the K-Arm-style schedule decides which classes spend them. A count, never a clock, so the result
 * is the same on every machine.
 */
export const INVERSION_STEPS_PER_CLASS = 60;
/** Inputs in one inversion step's batch (the base inputs outside the candidate class, up to this many). */
export const INVERSION_BATCH = 32;
/** Most classes trigger inversion takes on (a class count above it: not assessed, said so). */
export const INVERSION_MAX_CLASSES = 100;
/**
 * Compute budget of trigger inversion for one model, in estimated multiply-accumulates of forward passes
 * (a step costs a batch's forward pass and a backward pass counted as INVERSION_BACKWARD_FACTOR forward
 * passes, bench:speed's grad section). Steps are cut to fit a big model, as TRIGGER_MAC_BUDGET cuts probing.
 */
export const INVERSION_MAC_BUDGET = 1.6e10;
/**
 * Share of the scan budget's multiply-accumulates (`--budget`, BUDGET_MACS) trigger inversion may spend on
 * one model, on top of trigger probing's (src/fingerprint/gradient-budget.ts). 1: as much again as probing,
 * so at `default` (3e12) a 32x32 quarter-width ResNet-18 (3.5e7 a pass) gets 8 steps per class of its 43 (382
 * steps of 32 inputs, about 35 s on 2 cores here; bench/results/realsize-inversion.md), and `thorough` the
 * full INVERSION_STEPS_PER_CLASS. A small model is capped by the step count at every setting. Only the
 * legacy plan uses INVERSION_MAC_BUDGET.
 */
export const INVERSION_BUDGET_SHARE = 1;
/** Forward-pass equivalents of one forward+backward step (bench:speed grad: 1.8x-5.6x; the worst, rounded up). */
export const INVERSION_BACKWARD_FACTOR = 6;

/**
 * Inputs synthesised from the model without data (src/selfcheck/synthesise.ts): how many (an equal share per
 * class), the gradient steps on the whole batch, the fewest steps worth running, and the compute budget in
 * estimated multiply-accumulates (a step is a batch's forward pass plus a backward pass of
 * INVERSION_BACKWARD_FACTOR forward passes). Counts, never a clock.
 */
export const SYNTH_INPUTS = 128;
export const SYNTH_STEPS = 200;
export const SYNTH_MIN_STEPS = 20;
export const SYNTH_MAC_BUDGET = 2e10;
/**
 * Share of the scan budget input synthesis may spend (src/fingerprint/gradient-budget.ts), as
 * INVERSION_BUDGET_SHARE: at `default` a 32x32 quarter-width ResNet-18 gets 95 steps on its 129 inputs, at
 * `thorough` the full SYNTH_STEPS; a small model runs SYNTH_STEPS at every setting. SYNTH_MAC_BUDGET is the
 * legacy plan's.
 */
export const SYNTH_BUDGET_SHARE = 1;
