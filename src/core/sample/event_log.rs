//! Plain event logs of any size for benchmarks: the shape of a public
//! e-commerce clickstream (user_id, item_id, category, price, quantity,
//! timestamp, event_type), with ~75% views, ~15% carts, ~10% purchases.

use std::io::Write;

use polars::prelude::*;
use rand::prelude::*;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::core::import::parse::{days_from_civil, format_ms};

/// Rows generated per parallel block; each block has its own seed, so the
/// output does not depend on the thread count.
const BLOCK: usize = 250_000;
const MS_PER_DAY: i64 = 86_400_000;

#[derive(Clone, Debug)]
pub struct EventLogConfig {
    pub rows: usize,
    pub seed: u64,
    /// About one user per 20.8 events, as in the 10M → 480k customers.
    pub users: usize,
    pub items: usize,
    pub categories: usize,
}

impl EventLogConfig {
    pub fn with_rows(rows: usize, seed: u64) -> EventLogConfig {
        EventLogConfig {
            rows,
            seed,
            users: (rows as f64 / 20.8).ceil().max(1.0) as usize,
            items: (rows / 200).clamp(10, 50_000),
            categories: 200,
        }
    }
}

struct Block {
    user: Vec<u32>,
    item: Vec<u32>,
    category: Vec<u16>,
    price: Vec<f64>,
    quantity: Vec<u8>,
    ts_ms: Vec<i64>,
    kind: Vec<u8>,
}

const KINDS: [&str; 3] = ["view", "cart", "purchase"];

fn make_block(cfg: &EventLogConfig, block: usize) -> Block {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed ^ (block as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let start = block * BLOCK;
    let n = BLOCK.min(cfg.rows - start);
    let t0 = days_from_civil(2025, 1, 1) * MS_PER_DAY;
    let span = 365 * MS_PER_DAY;
    let mut b = Block {
        user: Vec::with_capacity(n),
        item: Vec::with_capacity(n),
        category: Vec::with_capacity(n),
        price: Vec::with_capacity(n),
        quantity: Vec::with_capacity(n),
        ts_ms: Vec::with_capacity(n),
        kind: Vec::with_capacity(n),
    };
    for _ in 0..n {
        // Skewed activity and popularity: a few users and items dominate.
        let user = ((rng.r#gen::<f64>().powf(1.6)) * cfg.users as f64) as u32;
        let item = ((rng.r#gen::<f64>().powf(2.5)) * cfg.items as f64) as u32;
        let category = (item as usize * 7919 % cfg.categories) as u16;
        let base_price = 2.0 + (item as f64 * 0.618_033_988_7).fract() * 150.0;
        let r: f64 = rng.r#gen();
        let kind = if r < 0.75 {
            0
        } else if r < 0.90 {
            1
        } else {
            2
        };
        b.user.push(user);
        b.item.push(item);
        b.category.push(category);
        b.price.push((base_price * 100.0).round() / 100.0);
        b.quantity.push(if rng.gen_bool(0.85) { 1 } else { rng.gen_range(2..4) });
        b.ts_ms.push(t0 + (rng.r#gen::<f64>() * span as f64) as i64 / 1000 * 1000);
        b.kind.push(kind);
    }
    b
}

/// Writes the log as CSV, generating blocks in parallel and writing them in order.
pub fn write_csv(cfg: &EventLogConfig, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "user_id,item_id,category,price,quantity,timestamp,event_type")?;
    let n_blocks = cfg.rows.div_ceil(BLOCK);
    // A window of blocks at a time keeps memory flat.
    let window = rayon::current_num_threads().max(1) * 2;
    for first in (0..n_blocks).step_by(window) {
        let texts: Vec<String> = (first..(first + window).min(n_blocks))
            .into_par_iter()
            .map(|bi| {
                let b = make_block(cfg, bi);
                let mut s = String::with_capacity(b.user.len() * 64);
                for i in 0..b.user.len() {
                    use std::fmt::Write as _;
                    let _ = writeln!(
                        s,
                        "{},{},cat_{:03},{:.2},{},{},{}",
                        b.user[i] + 1,
                        b.item[i] + 1,
                        b.category[i],
                        b.price[i],
                        b.quantity[i],
                        format_ms(b.ts_ms[i]),
                        KINDS[b.kind[i] as usize]
                    );
                }
                s
            })
            .collect();
        for t in texts {
            out.write_all(t.as_bytes())?;
        }
    }
    Ok(())
}

/// The log as a table (for Parquet), with the same rows as [`write_csv`].
pub fn to_frame(cfg: &EventLogConfig) -> PolarsResult<DataFrame> {
    frame_of_blocks(cfg, 0..cfg.rows.div_ceil(BLOCK))
}

/// The log cut into `files` tables of about equal size, whole blocks each,
/// made one at a time (a 100M-row log never sits in memory at once); the
/// parts together hold the rows of [`to_frame`], in its order.
pub fn parts(cfg: &EventLogConfig, files: usize) -> impl Iterator<Item = PolarsResult<DataFrame>> + '_ {
    let n_blocks = cfg.rows.div_ceil(BLOCK);
    let files = files.clamp(1, n_blocks.max(1));
    (0..files).map(move |f| frame_of_blocks(cfg, f * n_blocks / files..(f + 1) * n_blocks / files))
}

fn frame_of_blocks(cfg: &EventLogConfig, range: std::ops::Range<usize>) -> PolarsResult<DataFrame> {
    let parts: Vec<Block> = range.into_par_iter().map(|bi| make_block(cfg, bi)).collect();
    let n = parts.iter().map(|b| b.user.len()).sum();
    let flat = |f: &dyn Fn(&Block) -> Column| -> PolarsResult<Column> {
        let mut it = parts.iter().map(f);
        let mut first = it.next().ok_or_else(|| polars_err!(NoData: "no rows"))?;
        for c in it {
            first.append(&c)?;
        }
        Ok(first)
    };
    let user =
        flat(&|b| UInt32Chunked::from_iter_values("user_id".into(), b.user.iter().map(|u| u + 1)).into_column())?;
    let item =
        flat(&|b| UInt32Chunked::from_iter_values("item_id".into(), b.item.iter().map(|u| u + 1)).into_column())?;
    let category = flat(&|b| {
        StringChunked::from_iter_values("category".into(), b.category.iter().map(|c| format!("cat_{c:03}")))
            .into_column()
    })?;
    let price = flat(&|b| Float64Chunked::from_slice("price".into(), &b.price).into_column())?;
    let quantity = flat(&|b| {
        Int64Chunked::from_iter_values("quantity".into(), b.quantity.iter().map(|&q| q as i64)).into_column()
    })?;
    let ts = flat(&|b| {
        Int64Chunked::from_slice("timestamp".into(), &b.ts_ms).into_datetime(TimeUnit::Milliseconds, None).into_column()
    })?;
    let kind = flat(&|b| {
        StringChunked::from_iter_values("event_type".into(), b.kind.iter().map(|&k| KINDS[k as usize])).into_column()
    })?;
    let mut df = DataFrame::new(n, vec![user, item, category, price, quantity, ts, kind])?;
    df.rechunk_mut_par();
    Ok(df)
}
