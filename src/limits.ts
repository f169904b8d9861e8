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
/** Per-model time limit for fingerprinting (ms). */
export const MODEL_TIME_LIMIT_MS = 120_000;
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
 * Compute budget for reference-free trigger probing of one model, in estimated multiply-accumulates over all
 * its forward passes (about 2-4 s on one core here). The pass budget is cut to fit a big model. A function of
 * the model alone, never of the clock, so a scan gives the same result on every machine.
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
 * Compute budget of the patch map's own pass (src/selfcheck/sweep.ts patchMap), in estimated
 * multiply-accumulates, on top of TRIGGER_MAC_BUDGET: at most half as long again as the probing. It buys
 * the full 64 inputs on the zoo's 14x14 models, 33 on a 784-256-128 MLP over 28x28 inputs, 10 on a
 * LeNet-size CNN (bench/torch/findings.md). A model that affords no more than the sweep's own 8 inputs keeps
 * the sweep's map on samples, and has none on a mined base (src/fingerprint/trigger-check.ts keptMap).
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
/** Forward-pass equivalents of one forward+backward step (bench:speed grad: 1.8x-5.6x; the worst, rounded up). */
export const INVERSION_BACKWARD_FACTOR = 6;
