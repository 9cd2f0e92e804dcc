/**
 * SQL both stores (DuckDB, ClickHouse) aggregate with: the metric estimates of contract.ts and the
 * column each dimension groups by. Plain SQL that both dialects read the same way.
 */
import type { Dimension, Metric } from '../contract.js';

/** Estimates (contract.ts Metric): samplerate null (or 0, never valid) counts as 1. */
export const BITS_EST = 'coalesce("bits", 0) * coalesce(nullIf("samplerate", 0), 1) * "weight"';
export const PACKETS_EST = 'coalesce("packets", 0) * coalesce(nullIf("samplerate", 0), 1) * "weight"';
/** The three metrics of a group, as m_bits, m_packets and m_flows. */
export const SUMS = `sum(${BITS_EST}) AS m_bits, sum(${PACKETS_EST}) AS m_packets, sum("weight") AS m_flows`;

export const DIMENSION_COLUMN: Record<Dimension, string> = {
  srcip: '"srcip"',
  dstip: '"dstip"',
  srcport: '"srcport"',
  dstport: '"dstport"',
  protocol: '"protocolint"',
  srcas: '"srcas"',
  dstas: '"dstas"',
  srccountry: '"srccountry"',
  dstcountry: '"dstcountry"',
  exporter: '"flowsrcip"',
  input: '"input"',
  output: '"output"',
  flowtype: '"flowtype"',
};

export const METRIC_COLUMN: Record<Metric, string> = {
  bits: 'm_bits',
  packets: 'm_packets',
  flows: 'm_flows',
};
