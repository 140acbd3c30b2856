/**
 * Fills the staging appender's data chunk from rows, through DuckDB's C API bindings directly.
 *
 * `@duckdb/node-api`'s vectors keep every value in a JS cache until `flush()` and track NULLs with a
 * BigInt mask, allocating BigInts for every value once a column holds one NULL; a BIGINT also had to
 * become a BigInt first. Here numbers go into reused typed arrays (an integer as its two 32-bit
 * halves), NULLs into a reused byte mask, strings straight into the vector with one native call each
 * (a `RawJson` as its bytes), and each column is copied into the chunk once per chunk. Measured in
 * issue 14: see docs/MEMORY.md.
 */
import { endianness } from 'node:os';
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { Row } from '../../records/row.js';
import { RawJson } from '../../util/raw-json.js';
import { asText, toJsonText } from '../json-text.js';
import type { StageColumn } from '../stage-schema.js';
import { duckdbBindings as bindings } from './duckdb-api.js';

/** DuckDB's vector size: the most rows a data chunk holds. */
export const CHUNK_ROWS = 2048;

const TWO_POW_32 = 2 ** 32;
/** Integers whose two 32-bit halves are exact in a double; larger ones go through BigInt. */
const SAFE = Number.MAX_SAFE_INTEGER;
/** The halves are written little-endian; elsewhere every integer goes through BigInt. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** One column's reused buffers. */
interface ColumnBuffers {
  /** 8 bytes per row (BIGINT, DOUBLE), 4 (the INTEGER sequence) or 1 (BOOLEAN); empty for text. */
  readonly data: ArrayBuffer;
  readonly int32: Int32Array;
  readonly int64: BigInt64Array;
  readonly float64: Float64Array;
  readonly bytes: Uint8Array;
  /**
   * One bit per row, set = valid: DuckDB's 64-bit words as bytes, which is their layout on the
   * little-endian machines (x64, arm64) DuckDB's Node packages are built for.
   */
  readonly validityData: ArrayBuffer;
  readonly validity: Uint8Array;
}

function columnBuffers(bytesPerRow: number): ColumnBuffers {
  const data = new ArrayBuffer(bytesPerRow * CHUNK_ROWS);
  const validityData = new ArrayBuffer(CHUNK_ROWS / 8);
  return {
    data,
    int32: new Int32Array(data),
    int64: new BigInt64Array(data, 0, bytesPerRow === 8 ? CHUNK_ROWS : 0),
    float64: new Float64Array(data, 0, bytesPerRow === 8 ? CHUNK_ROWS : 0),
    bytes: new Uint8Array(data),
    validityData,
    validity: new Uint8Array(validityData),
  };
}

const BYTES_PER_ROW: Record<string, number> = { BIGINT: 8, DOUBLE: 8, BOOLEAN: 1 };

export class StageChunkWriter {
  private readonly seq = columnBuffers(4);
  private readonly buffers: ColumnBuffers[] = [];

  /** `chunk`: the appender's chunk, the sequence (INTEGER) first, then one column per stage column. */
  constructor(readonly chunk: DuckDBDataChunk) {}

  /**
   * Fills the chunk with rows [offset, offset + size) of `rows` (size at most CHUNK_ROWS), the sequence
   * numbers counting from `firstSeq`. Values are converted as their column's logical type says.
   */
  fill(
    rows: readonly Row[],
    offset: number,
    size: number,
    columns: readonly StageColumn[],
    firstSeq: number,
  ): void {
    const raw = this.chunk.chunk;
    bindings.data_chunk_reset(raw);
    bindings.data_chunk_set_size(raw, size);
    const seq = this.seq.int32;
    for (let r = 0; r < size; r++) seq[r] = firstSeq + r;
    bindings.copy_data_to_vector(bindings.data_chunk_get_vector(raw, 0), 0, this.seq.data, 0, size * 4);
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      const vector = bindings.data_chunk_get_vector(raw, i + 1);
      const perRow = BYTES_PER_ROW[column.type ?? ''] ?? 0;
      let buffers = this.buffers[i];
      if (buffers === undefined || buffers.data.byteLength !== perRow * CHUNK_ROWS) {
        buffers = columnBuffers(perRow);
        this.buffers[i] = buffers;
      }
      const nulls = this.fillColumn(rows, offset, size, column, vector, buffers);
      if (perRow > 0) bindings.copy_data_to_vector(vector, 0, buffers.data, 0, size * perRow);
      if (nulls > 0) {
        bindings.vector_ensure_validity_writable(vector);
        bindings.copy_data_to_vector_validity(vector, 0, buffers.validityData, 0, Math.ceil(size / 64) * 8);
      }
    }
  }

  /** Writes one column's values; returns how many were NULL. */
  private fillColumn(
    rows: readonly Row[],
    offset: number,
    size: number,
    column: StageColumn,
    vector: ReturnType<typeof bindings.data_chunk_get_vector>,
    buffers: ColumnBuffers,
  ): number {
    const { key, inherited, type } = column;
    const validity = buffers.validity;
    validity.fill(0xff);
    let nulls = 0;
    for (let r = 0; r < size; r++) {
      const row = rows[offset + r]!;
      const value = inherited && !Object.hasOwn(row, key) ? undefined : row[key];
      if (value === null || value === undefined || type === null) {
        validity[r >> 3]! &= ~(1 << (r & 7));
        nulls++;
        continue;
      }
      switch (type) {
        case 'VARCHAR':
        case 'JSON':
          if (typeof value === 'string' && type === 'VARCHAR')
            bindings.vector_assign_string_element(vector, r, value);
          // The API's own UTF-8 text goes in as it is, never a JS string.
          else if (value instanceof RawJson)
            bindings.vector_assign_string_element_len(vector, r, value.bytes);
          else
            bindings.vector_assign_string_element(
              vector,
              r,
              type === 'JSON' ? toJsonText(value) : asText(value),
            );
          break;
        case 'BIGINT':
          writeInt64(buffers, r, value);
          break;
        case 'DOUBLE':
          buffers.float64[r] = Number(value);
          break;
        case 'BOOLEAN':
          buffers.bytes[r] = value ? 1 : 0;
          break;
      }
    }
    return nulls;
  }
}

/** A BIGINT value: an integer number as its two halves, anything else as a checked BigInt. */
function writeInt64(buffers: ColumnBuffers, r: number, value: unknown): void {
  if (
    LITTLE_ENDIAN &&
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= -SAFE &&
    value <= SAFE
  ) {
    const high = Math.floor(value / TWO_POW_32);
    buffers.int32[2 * r] = value - high * TWO_POW_32;
    buffers.int32[2 * r + 1] = high;
    return;
  }
  // BigInt() throws on a fraction, as the appender did; a bigint must fit the column.
  const big = typeof value === 'bigint' ? value : BigInt(value as number);
  if (BigInt.asIntN(64, big) !== big) throw new RangeError(`${big} does not fit a BIGINT column`);
  buffers.int64[r] = big;
}
