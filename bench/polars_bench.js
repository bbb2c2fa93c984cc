// polars (nodejs-polars 0.25.2) doing the same work as the aqueducts pipelines of bench/run_all.sh
// and bench/suite.sh: lazy scans, streaming Parquet sinks (zstd).
// Usage: node polars_bench.js <mode> <input> <output> [extra...]
//   csv2parquet <in.csv> <out>             CSV -> Parquet
//   groupby <in.parquet> <out>             GROUP BY (day, location_id)
//   csvfilter <in.csv> <out>               CSV -> WHERE temperature > 0 -> Parquet
//   groupby_n <in.parquet> <out> <groups>  GROUP BY id % groups
//   join <fact.parquet> <out> <dim.parquet> <dim_rows>   fact JOIN dim ON id % dim_rows = key
//   csvjoin <readings.csv> <out> <stations.csv> <stations>  the same join from two CSV files
//   stages3 <in.parquet> <out>             filter -> derive -> aggregate
//   jsonl <in.jsonl> <out>                 JSON lines -> Parquet
const path = require('path');
const pl = require(path.join(__dirname, '.deps/node_modules/nodejs-polars'));

const [mode, input, output, extra1, extra2] = process.argv.slice(2);
const start = process.hrtime.bigint();
const sink = (lf) => lf.sinkParquet(output, { compression: 'zstd' }).collectSync();
const joined = (fact, dim, n) =>
  fact.withColumn(pl.col('id').modulo(Number(n)).cast(pl.Int64).alias('k'))
    .join(dim, { leftOn: 'k', rightOn: 'key' })
    .groupBy('category')
    .agg(pl.col('temperature').mean().alias('avg_temp'), pl.len().alias('n'));
if (mode === 'csv2parquet') {
  sink(pl.scanCSV(input, { hasHeader: true }));
} else if (mode === 'groupby') {
  sink(pl.scanParquet(input)
    .groupBy(['day', 'location_id'])
    .agg(pl.col('temperature').mean().alias('avg_temp'),
         pl.col('temperature').min().alias('min_temp'),
         pl.col('temperature').max().alias('max_temp'),
         pl.col('humidity').mean().alias('avg_humidity'),
         pl.len().alias('n')));
} else if (mode === 'csvfilter') {
  sink(pl.scanCSV(input, { hasHeader: true }).filter(pl.col('temperature').gt(0)));
} else if (mode === 'groupby_n') {
  sink(pl.scanParquet(input)
    .withColumn(pl.col('id').modulo(Number(extra1)).cast(pl.Int64).alias('g'))
    .groupBy('g')
    .agg(pl.col('temperature').mean().alias('avg_temp'), pl.col('humidity').max().alias('max_hum'),
         pl.len().alias('n')));
} else if (mode === 'join') {
  sink(joined(pl.scanParquet(input), pl.scanParquet(extra1), extra2));
} else if (mode === 'csvjoin') {
  sink(joined(pl.scanCSV(input, { hasHeader: true }), pl.scanCSV(extra1, { hasHeader: true }),
              extra2));
} else if (mode === 'stages3') {
  sink(pl.scanParquet(input)
    .filter(pl.col('temperature').gt(0))
    .withColumn(pl.col('temperature').mul(1.8).add(32).alias('temp_f'))
    .groupBy(['day', 'location_id'])
    .agg(pl.col('temp_f').mean().alias('avg_temp_f'), pl.len().alias('n')));
} else if (mode === 'jsonl') {
  sink(pl.scanJson(input));
} else {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;
console.error('elapsed ' + (ms / 1000).toFixed(3));
