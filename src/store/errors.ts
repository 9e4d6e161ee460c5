// Domain errors raised by every Store backend. They become HTTP answers in exactly one place
// (src/dav/errors.ts); nothing here knows about HTTP. Imports nothing of ours.

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** The store cannot answer right now (locked past the retry budget, unreachable, mid-migration). */
export class StoreUnavailable extends StoreError {
  override readonly name = 'StoreUnavailable';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1, options?: ErrorOptions) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A read disagreed with the transactional counters: the answer would be short, so none is given. */
export class StoreInconsistent extends StoreError {
  override readonly name = 'StoreInconsistent';
}

export class NotFound extends StoreError {
  override readonly name = 'NotFound';
}

/** If-Match / If-None-Match did not hold at commit time. */
export class EtagMismatch extends StoreError {
  override readonly name = 'EtagMismatch';
}

/** Another object in the same collection already uses this UID. */
export class UidConflict extends StoreError {
  override readonly name = 'UidConflict';
  readonly existingName: string;
  /** The collection holding both objects: its path and kind pick the protocol's precondition. */
  readonly collectionPath: string;
  readonly collectionKind: string;
  constructor(existingName: string, collectionPath: string, collectionKind: string) {
    super(`UID already used by ${existingName}`);
    this.existingName = existingName;
    this.collectionPath = collectionPath;
    this.collectionKind = collectionKind;
  }
}

/** The target name is taken (a collection where an object should go, or the reverse). */
export class AlreadyExists extends StoreError {
  override readonly name = 'AlreadyExists';
}

/** A parent collection is missing or is not a collection. */
export class ConflictingPath extends StoreError {
  override readonly name = 'ConflictingPath';
}

export class QuotaExceeded extends StoreError {
  override readonly name = 'QuotaExceeded';
}

export class UserExists extends StoreError {
  override readonly name = 'UserExists';
}
