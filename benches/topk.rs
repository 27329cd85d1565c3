//! Top-k search over N × 64 unit-norm clip embeddings, k = 10 (the `search` stage of a query).
//!
//! `cargo bench --bench topk` runs criterion at 10k, 100k and 1M rows. With `-- --json [--threads T]
//! [--queries Q] [--n N]...` it instead prints one JSON line per size with the key names of the
//! Python peer (`shared/bench/query.py`: `search_p50_ms`, `search_p95_ms`), for `scripts/bench`.

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use storyscore::index::topk::{top_k, top_k_batch, Metric};

const DIM: usize = 64;
const K: usize = 10;
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// Seeded random unit-norm rows `[n, DIM]`.
fn unit_rows(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut m: Vec<f32> = (0..n * DIM).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    for row in m.chunks_exact_mut(DIM) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        row.iter_mut().for_each(|x| *x /= norm);
    }
    m
}

fn criterion_benches(c: &mut Criterion) {
    let queries = unit_rows(32, 1);
    let query = &queries[..DIM];
    let mut group = c.benchmark_group("topk");
    for n in SIZES {
        let m = unit_rows(n, 0);
        group.throughput(Throughput::Elements(n as u64));
        if n >= 1_000_000 {
            group.sample_size(20);
        }
        group.bench_with_input(BenchmarkId::new("single", n), &m, |b, m| {
            b.iter(|| top_k(m, DIM, query, K, Metric::InnerProduct))
        });
        group.bench_with_input(BenchmarkId::new("euclidean", n), &m, |b, m| {
            b.iter(|| top_k(m, DIM, query, K, Metric::NegSquaredEuclidean))
        });
        if n <= 100_000 {
            group.bench_with_input(BenchmarkId::new("batch32", n), &m, |b, m| {
                b.iter(|| top_k_batch(m, DIM, &queries, K, Metric::InnerProduct))
            });
        }
    }
    group.finish();
}

fn percentile_ms(xs: &mut [f64], q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    // Linear interpolation, as numpy.percentile (the peer's definition).
    let pos = q / 100.0 * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    (xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)) * 1e3
}

struct JsonArgs {
    threads: usize,
    queries: usize,
    warmup: usize,
    sizes: Vec<usize>,
}

fn parse_json_args(args: &[String]) -> Result<JsonArgs, String> {
    let mut out = JsonArgs { threads: 0, queries: 200, warmup: 10, sizes: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next().and_then(|v| v.parse::<usize>().ok()).ok_or(format!("{name} needs a number"))
        };
        match a.as_str() {
            "--threads" => out.threads = value("--threads")?,
            "--queries" => out.queries = value("--queries")?.max(1),
            "--warmup" => out.warmup = value("--warmup")?,
            "--n" => out.sizes.push(value("--n")?),
            _ => {}
        }
    }
    if out.sizes.is_empty() {
        out.sizes = SIZES.to_vec();
    }
    Ok(out)
}

fn json_mode(args: &[String]) -> Result<(), String> {
    let a = parse_json_args(args)?;
    if a.threads > 0 {
        rayon::ThreadPoolBuilder::new().num_threads(a.threads).build_global().map_err(|e| e.to_string())?;
    }
    let threads = rayon::current_num_threads();
    let queries = unit_rows(64, 1);
    for &n in &a.sizes {
        let t0 = Instant::now();
        let m = unit_rows(n, 0);
        let build_s = t0.elapsed().as_secs_f64();
        let mut times = Vec::with_capacity(a.queries);
        for i in 0..a.warmup + a.queries {
            let q = &queries[(i % 64) * DIM..][..DIM];
            let t = Instant::now();
            let hits = top_k(&m, DIM, q, K, Metric::InnerProduct).map_err(|e| e.to_string())?;
            let dt = t.elapsed().as_secs_f64();
            std::hint::black_box(hits);
            if i >= a.warmup {
                times.push(dt);
            }
        }
        let p50 = percentile_ms(&mut times, 50.0);
        let p95 = percentile_ms(&mut times, 95.0);
        println!(
            "{{\"bench\": \"topk\", \"n\": {n}, \"k\": {K}, \"dim\": {DIM}, \"queries\": {}, \
             \"threads\": {threads}, \"search_p50_ms\": {p50}, \"search_p95_ms\": {p95}, \
             \"matrix_build_s\": {build_s}}}",
            a.queries
        );
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--json") {
        if let Err(e) = json_mode(&args) {
            eprintln!("topk bench: {e}");
            std::process::exit(2);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
