/**
 * A JSON value kept as the UTF-8 text the API sent, already checked to be valid JSON and valid UTF-8:
 * an attribute that is stored whole as a JSON column (an event's `event_properties`) need not become
 * JS objects and be written out again. Measured in issue 14 (docs/MEMORY.md).
 */
export class RawJson {
  /**
   * The text is `buffer`'s bytes [offset, offset + length): a buffer of its own (one per page for the
   * values the client parses), never one that is reused.
   */
  constructor(
    private readonly buffer: Buffer,
    private readonly offset = 0,
    readonly length = buffer.length - offset,
  ) {}

  /** The UTF-8 bytes of the text (a view, made when asked for). */
  get bytes(): Buffer {
    return this.buffer.subarray(this.offset, this.offset + this.length);
  }

  /** The JSON text. */
  get text(): string {
    return this.buffer.toString('utf8', this.offset, this.offset + this.length);
  }

  /** What `JSON.stringify` and anything generic see: the parsed value. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
