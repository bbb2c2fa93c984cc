// polars (nodejs-polars 0.25.2) doing the same work as the core pipelines: lazy scan, streaming
// sink. Usage: node polars_bench.js csv2parquet <in.csv> <out.parquet>
//              node polars_bench.js groupby <in.parquet> <out.parquet>
const path = require('path');
const pl = require(path.join(__dirname, '.deps/node_modules/nodejs-polars'));

const [mode, input, output] = process.argv.slice(2);
const start = process.hrtime.bigint();
if (mode === 'csv2parquet') {
  pl.scanCSV(input, { hasHeader: true })
    .sinkParquet(output, { compression: 'zstd' })
    .collectSync();
} else if (mode === 'groupby') {
  pl.scanParquet(input)
    .groupBy(['day', 'location_id'])
    .agg(pl.col('temperature').mean().alias('avg_temp'),
         pl.col('temperature').min().alias('min_temp'),
         pl.col('temperature').max().alias('max_temp'),
         pl.col('humidity').mean().alias('avg_humidity'),
         pl.len().alias('n'))
    .sinkParquet(output, { compression: 'zstd' })
    .collectSync();
} else {
  console.error('unknown mode ' + mode);
  process.exit(2);
}
const ms = Number(process.hrtime.bigint() - start) / 1e6;
console.error('elapsed ' + (ms / 1000).toFixed(3));
