/**
 * One error type per failure kind. Each keeps its cause so a log line or an
 * HTTP answer can say what really went wrong.
 */
export class KvbenchError extends Error {
  /** Stable machine-readable code, also used as the HTTP error code. */
  readonly code: string = 'KVBENCH_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input (REST body, CLI flag, bus message, file) does not match its schema. */
export class ValidationError extends KvbenchError {
  override readonly code = 'VALIDATION_ERROR';
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. `contexts.0`. */
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Environment variable or config file is missing or invalid; raised at start. */
export class ConfigError extends KvbenchError {
  override readonly code = 'CONFIG_ERROR';
  constructor(message: string, readonly variable: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A workload, run or other named thing does not exist. */
export class NotFoundError extends KvbenchError {
  override readonly code = 'NOT_FOUND';
  constructor(readonly kind: string, readonly id: string, options?: { cause?: unknown }) {
    super(`${kind} '${id}' not found`, options);
  }
}

/** A request is larger than a configured limit. */
export class LimitError extends KvbenchError {
  override readonly code = 'LIMIT_EXCEEDED';
  constructor(message: string, readonly field: string, readonly limit: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The inference engine failed to start, died, hung or answered wrongly. */
export class EngineError extends KvbenchError {
  override readonly code = 'ENGINE_ERROR';
  constructor(
    message: string,
    /** Last lines of the engine's log, when the agent launched it. */
    readonly logTail: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** NATS / JetStream operation failed. */
export class BusError extends KvbenchError {
  override readonly code = 'BUS_ERROR';
}

/** SQLite or another store failed. */
export class StorageError extends KvbenchError {
  override readonly code = 'STORAGE_ERROR';
}

/** Caller is not authenticated or not allowed. */
export class AuthError extends KvbenchError {
  override readonly code = 'UNAUTHORIZED';
  constructor(message: string, readonly status: 401 | 403, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A results file (--output_json) cannot be read, written or merged into; names the file. */
export class ResultsFileError extends KvbenchError {
  override readonly code = 'RESULTS_FILE_ERROR';
  constructor(readonly path: string, problem: string, options?: { cause?: unknown }) {
    super(`results file ${path}: ${problem}`, options);
  }
}

/** The request conflicts with the current state of the thing it names (e.g. cancelling a finished run). */
export class ConflictError extends KvbenchError {
  override readonly code = 'CONFLICT';
  constructor(message: string, readonly state: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A run was stopped because a user cancelled it (the abort reason the agent hands the runner). */
export class RunCancelledError extends KvbenchError {
  override readonly code = 'RUN_CANCELLED';
}

/**
 * A well-formed run the engine cannot serve as given (a request longer than max_seq_len or than
 * the GPU KV pool): refused before anything starts, by the CLI and by POST /runs (422), with the
 * field to change and the value that works.
 */
export class CannotRunError extends ValidationError {
  constructor(
    message: string,
    field: string,
    /** The smallest value of `field` that works, when there is one. */
    readonly fix: { field: string; value: number | string } | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, field, options);
  }
}
