/**
 * A JSON value kept as the UTF-8 text the API sent, already checked to be valid JSON and valid UTF-8:
 * an attribute that is stored whole as a JSON column (an event's `event_properties`) need not become
 * JS objects and be written out again. Measured in issue 14 (docs/MEMORY.md).
 */
export class RawJson {
  /** `bytes` is the value's own copy, not a view of a reused buffer. */
  constructor(readonly bytes: Buffer) {}

  /** The JSON text. */
  get text(): string {
    return this.bytes.toString('utf8');
  }

  /** What `JSON.stringify` and anything generic see: the parsed value. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
