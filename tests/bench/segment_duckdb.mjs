// Segment anchor: the memberships of a rule set written as DuckDB SQL (one aggregate per
// user, then a count per segment), for the rules of tests/bench/rules_synth.txt (the
// synthetic view/addtocart/transaction events) or tests/data/rules_retail.txt (the retail
// purchase/return events). Written from docs/rules.md, not from libpersona's code: `now` is
// the latest event; a window W is (now - W, now]; regularly() counts calendar weeks from
// Monday; sessions split at gaps over 30 minutes.
//
// usage: node segment_duckdb.mjs --events FILE --set synth|retail [--repeats N] [--csv OUT]
// prints one JSON line: the counts, and the median seconds end to end (query on read_csv)
// and compute (query on a table already loaded). --csv writes `segment,users` in rule order.
// DuckDB: @duckdb/node-api from npm (PERSONA_BENCH_DATA/tools/duckdb/node_modules, linked
// as tests/bench/node_modules by compare_segment.sh).
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const repeats = Number(args.repeats || 3);

// Per user: the columns the rules read. `now` and the week of now come from the whole file.
const perUser = {
  synth: `
    coalesce(sum(v), 0) AS value, count(*) AS events,
    count(*) FILTER (WHERE e = 'transaction') AS tx,
    count(*) FILTER (WHERE t > now - INTERVAL 7 DAY) AS any7,
    count(*) FILTER (WHERE e = 'view' AND t > now - INTERVAL 30 DAY) AS view30,
    count(*) FILTER (WHERE e = 'transaction' AND t > now - INTERVAL 30 DAY) AS tx30,
    coalesce(sum(v) FILTER (WHERE e = 'transaction' AND t > now - INTERVAL 30 DAY), 0) AS txsum30,
    max(t) FILTER (WHERE e = 'transaction') AS last_tx,
    min(t) FILTER (WHERE e = 'view') AS first_view,
    count(*) FILTER (WHERE e = 'view' AND t > now - INTERVAL 7 DAY) AS view7,
    count(*) FILTER (WHERE e = 'view' AND t > now - INTERVAL 37 DAY AND t <= now - INTERVAL 7 DAY) AS view_gap,
    count(*) FILTER (WHERE e = 'view' AND t <= now - INTERVAL 37 DAY) AS view_before,
    count(DISTINCT date_trunc('week', t)) FILTER (WHERE e = 'view' AND t >= wk - INTERVAL 21 DAY) AS weeks,
    max(t) FILTER (WHERE e = 'addtocart') AS last_cart`,
  retail: `
    coalesce(sum(v), 0) AS value, count(*) AS events,
    count(*) FILTER (WHERE e = 'purchase') AS purchases,
    count(*) FILTER (WHERE e = 'return') AS returns,
    count(*) FILTER (WHERE t > now - INTERVAL 30 DAY) AS any30,
    count(*) FILTER (WHERE e = 'purchase' AND t > now - INTERVAL 90 DAY) AS p90,
    count(*) FILTER (WHERE e = 'return' AND t > now - INTERVAL 90 DAY) AS r90,
    coalesce(sum(v) FILTER (WHERE e = 'purchase' AND t > now - INTERVAL 90 DAY), 0) AS psum90,
    coalesce(sum(v) FILTER (WHERE e = 'return' AND t > now - INTERVAL 90 DAY), 0) AS rsum90,
    max(t) FILTER (WHERE e = 'purchase') AS last_p,
    min(t) FILTER (WHERE e = 'purchase') AS first_p,
    count(*) FILTER (WHERE e = 'purchase' AND t > now - INTERVAL 30 DAY) AS p30,
    count(*) FILTER (WHERE e = 'purchase' AND t > now - INTERVAL 90 DAY AND t <= now - INTERVAL 30 DAY) AS p_gap,
    count(*) FILTER (WHERE e = 'purchase' AND t <= now - INTERVAL 90 DAY) AS p_before,
    count(DISTINCT date_trunc('week', t)) FILTER (WHERE e = 'purchase' AND t >= wk - INTERVAL 21 DAY) AS weeks`,
};
// The segments, in the order of the rule file: name and SQL condition.
const segments = {
  synth: [
    ['vip', 'value > 1000 AND tx >= 3'],
    ['active_7d', 'any7 > 0'],
    ['browser', 'view30 >= 10 AND tx30 = 0'],
    ['buyer_30d', 'txsum30 > 100'],
    ['lapsed', 'last_tx <= now - INTERVAL 60 DAY'],
    ['new_visitor', 'first_view > now - INTERVAL 7 DAY'],
    ['returning', 'view7 > 0 AND view_gap = 0 AND view_before > 0'],
    ['regular', 'weeks >= 3'],
    ['recent_cart', 'now - last_cart < INTERVAL 4 DAY'], // whole days (floor) <= 3
    ['heavy', 'events > 100'],
    ['multi_session', 'sessions >= 5'],
    ['newcomer', 'last_seen - first_seen < INTERVAL 7 DAY'],
  ],
  retail: [
    ['vip', 'value > 5000 AND purchases >= 50'],
    ['active_30d', 'any30 > 0'],
    ['frequent', 'p90 >= 20 AND r90 = 0'],
    ['big_90d', 'psum90 > 1000'],
    ['refunds_90d', 'rsum90 < -100'],
    ['lapsed', 'last_p <= now - INTERVAL 120 DAY'],
    ['new', 'first_p > now - INTERVAL 60 DAY'],
    ['returning', 'p30 > 0 AND p_gap = 0 AND p_before > 0'],
    ['regular', 'weeks >= 3'],
    ['recent', 'now - last_p < INTERVAL 15 DAY'], // days_since <= 14
    ['heavy', 'events > 200'],
    ['multi_session', 'sessions >= 5'],
    ['returner', 'returns >= 3'],
    ['short', 'last_seen - first_seen < INTERVAL 30 DAY'],
  ],
};

const set = args.set;
if (!perUser[set] || !args.events) {
  console.error('usage: node segment_duckdb.mjs --events FILE --set synth|retail [--repeats N] [--csv OUT]');
  process.exit(2);
}
const source = `read_csv('${args.events.replace(/'/g, "''")}', header=true, columns={'user_id':'VARCHAR','timestamp':'TIMESTAMP','event':'VARCHAR','value':'DOUBLE'})`;
const query = (src) => `
WITH ev AS (SELECT user_id AS u, timestamp AS t, event AS e, value AS v FROM ${src}),
clock AS (SELECT max(t) AS now, date_trunc('week', max(t)) AS wk FROM ev),
s AS (SELECT u, 1 + count(*) FILTER (WHERE gap > INTERVAL 30 MINUTE) AS sessions
      FROM (SELECT u, t - lag(t) OVER (PARTITION BY u ORDER BY t) AS gap FROM ev) GROUP BY u),
a AS (SELECT u, ${perUser[set]}, min(t) AS first_seen, max(t) AS last_seen, any_value(now) AS now
      FROM ev, clock GROUP BY u)
SELECT ${segments[set].map(([n, c]) => `count(*) FILTER (WHERE ${c}) AS "${n}"`).join(', ')}, count(*) AS users
FROM a JOIN s USING (u)`;

const inst = await DuckDBInstance.create(':memory:', { threads: process.env.PERSONA_BENCH_THREADS || '2' });
const con = await inst.connect();
const version = (await con.runAndReadAll('select version()')).getRows()[0][0];
async function timed(fn) {
  const times = [];
  let out;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    out = await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return [times[(times.length - 1) >> 1], out];
}
const counts = async (src) => (await con.runAndReadAll(query(src))).getRowObjects()[0];
const [e2e, res] = await timed(() => counts(source));
const [load] = await timed(async () => {
  await con.run('DROP TABLE IF EXISTS events');
  await con.run(`CREATE TABLE events AS SELECT * FROM ${source}`);
});
const [compute, res2] = await timed(() => counts('events'));
const plain = (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
if (JSON.stringify(plain(res)) !== JSON.stringify(plain(res2))) throw new Error('end-to-end and compute differ');
if (args.csv)
  writeFileSync(args.csv, 'segment,users\n' + segments[set].map(([n]) => `${n},${Number(res[n])}`).join('\n') + '\n');
console.log(JSON.stringify({ anchor: `duckdb-${version}`, set, counts: plain(res), e2e_s: e2e, load_s: load, compute_s: compute }));
