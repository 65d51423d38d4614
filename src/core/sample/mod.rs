//! Seeded data generators: the demo shop bundled in `sample_data/`, and plain
//! event logs of any size for benchmarks.

pub mod blobs;
pub mod bundled;
pub mod catalogue;
pub mod event_log;
pub mod past_campaign;

use polars::prelude::*;
use rand::prelude::*;
use rand_distr::{Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

use crate::core::import::parse::{civil_from_days, days_from_civil};
use catalogue::{CATEGORIES, Product, make_products};
use past_campaign::{PastCampaign, PastCampaignRow};

const MS_PER_DAY: i64 = 86_400_000;

/// The latent customer types of the demo shop. Segmentation should find
/// groups that resemble them; they are written to `customers.csv` as ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Persona {
    LoyalHighSpender,
    Regular,
    BargainHunter,
    NewCustomer,
    Lapsing,
    Churned,
    WindowShopper,
}

impl Persona {
    pub fn name(self) -> &'static str {
        match self {
            Persona::LoyalHighSpender => "loyal high spender",
            Persona::Regular => "regular",
            Persona::BargainHunter => "bargain hunter",
            Persona::NewCustomer => "new customer",
            Persona::Lapsing => "lapsing",
            Persona::Churned => "churned",
            Persona::WindowShopper => "window shopper",
        }
    }

    /// Share of the customer base.
    fn share(self) -> f64 {
        match self {
            Persona::LoyalHighSpender => 0.08,
            Persona::Regular => 0.20,
            Persona::BargainHunter => 0.16,
            Persona::NewCustomer => 0.12,
            Persona::Lapsing => 0.14,
            Persona::Churned => 0.14,
            Persona::WindowShopper => 0.16,
        }
    }

    const ALL: [Persona; 7] = [
        Persona::LoyalHighSpender,
        Persona::Regular,
        Persona::BargainHunter,
        Persona::NewCustomer,
        Persona::Lapsing,
        Persona::Churned,
        Persona::WindowShopper,
    ];
}

/// Settings of the demo shop.
#[derive(Clone, Debug)]
pub struct ShopConfig {
    pub customers: usize,
    pub seed: u64,
    /// First day of the simulated history (days since 1970-01-01).
    pub start_day: i64,
    /// Number of simulated days.
    pub days: i64,
    pub products_per_category: usize,
    /// The randomised campaign sent this many days before the history ends
    /// (None: no campaign).
    pub campaign_days_before_end: Option<i64>,
}

impl ShopConfig {
    /// The past campaign's send day and window, when there is one.
    pub fn past_campaign(&self) -> Option<PastCampaign> {
        let before = self.campaign_days_before_end?;
        let day = self.start_day + self.days - before;
        (day > self.start_day && before > past_campaign::WINDOW_DAYS).then_some(PastCampaign { day })
    }
}

impl Default for ShopConfig {
    fn default() -> Self {
        let start_day = days_from_civil(2025, 1, 1);
        ShopConfig {
            customers: 3000,
            seed: 42,
            start_day,
            days: days_from_civil(2026, 11, 1) - start_day,
            products_per_category: 40,
            campaign_days_before_end: Some(120),
        }
    }
}

/// The generated shop: its event log, catalogue and the customers' true types.
pub struct SampleShop {
    pub events: DataFrame,
    pub products: DataFrame,
    pub customers: DataFrame,
    /// The past campaign's results as the shop would export them
    /// (`past_campaign.csv`), and the generator's truth behind each row.
    pub past_campaign: Option<(DataFrame, Vec<past_campaign::Truth>)>,
}

/// How busy a calendar day is, and whether the shop runs a sale (a November
/// peak around 11.11 and Black Friday, a mid-June 618 sale).
fn calendar(day: i64) -> (f64, bool) {
    let (_, month, dom) = civil_from_days(day);
    let weekday = (day + 3).rem_euclid(7); // 0 = Monday
    let mut load = if weekday >= 5 { 1.15 } else { 1.0 };
    let singles_day = month == 11 && (9..=11).contains(&dom);
    let black_friday = (month == 11 && dom >= 24) || (month == 12 && dom <= 1);
    let mid_year = month == 6 && (16..=18).contains(&dom);
    if singles_day {
        load *= 4.0;
    }
    if black_friday {
        load *= 2.5;
    }
    if mid_year {
        load *= 2.2;
    }
    if month == 12 && dom <= 20 {
        load *= 1.4;
    }
    if month <= 2 {
        load *= 0.8;
    }
    (load, singles_day || black_friday || mid_year)
}

/// Behaviour of one customer.
struct Profile {
    first_day: i64,
    last_day: i64,
    /// Expected purchase orders per ordinary day.
    order_rate: f64,
    /// Expected browsing sessions per ordinary day.
    browse_rate: f64,
    basket_mean: f64,
    /// Exponent on price when choosing items: > 0 prefers dear items.
    price_taste: f64,
    /// Category weights.
    affinity: Vec<f64>,
    /// Window shoppers may buy once at most.
    max_orders: usize,
}

fn make_profile(rng: &mut impl Rng, persona: Persona, cfg: &ShopConfig) -> Profile {
    let start = cfg.start_day;
    let end = cfg.start_day + cfg.days - 1;
    let within = |rng: &mut dyn RngCore, a: i64, b: i64| a + (rng.next_u64() % (b - a + 1).max(1) as u64) as i64;
    let (first_day, last_day, order_rate, browse_rate, basket_mean, price_taste, max_orders) = match persona {
        Persona::LoyalHighSpender => {
            (within(rng, start, start + 180), end, 1.0 / 24.0, 1.0 / 16.0, 3.2, 0.6, usize::MAX)
        }
        Persona::Regular => (within(rng, start, start + 360), end, 1.0 / 55.0, 1.0 / 25.0, 2.0, 0.0, usize::MAX),
        Persona::BargainHunter => {
            (within(rng, start, start + 240), end, 1.0 / 150.0, 1.0 / 10.0, 2.4, -0.8, usize::MAX)
        }
        Persona::NewCustomer => (within(rng, end - 90, end - 3), end, 1.0 / 30.0, 1.0 / 10.0, 2.0, 0.1, usize::MAX),
        Persona::Lapsing => {
            let first = within(rng, start, start + 240);
            (first, within(rng, end - 240, end - 120), 1.0 / 40.0, 1.0 / 25.0, 2.2, 0.2, usize::MAX)
        }
        Persona::Churned => {
            let first = within(rng, start, start + 300);
            (first, first + within(rng, 20, 90), 1.0 / 30.0, 1.0 / 20.0, 1.6, 0.0, usize::MAX)
        }
        Persona::WindowShopper => (within(rng, start, end - 60), end, 1.0 / 700.0, 1.0 / 7.0, 1.2, -0.2, 1),
    };
    let mut affinity = vec![0.25; CATEGORIES.len()];
    let favourite = rng.gen_range(0..CATEGORIES.len());
    let second = rng.gen_range(0..CATEGORIES.len());
    affinity[favourite] += 6.0;
    affinity[second] += 2.5;
    Profile { first_day, last_day, order_rate, browse_rate, basket_mean, price_taste, affinity, max_orders }
}

/// One generated event, before it becomes a table row.
struct Event {
    ts_ms: i64,
    kind: &'static str,
    order_id: Option<String>,
    item: usize,
    quantity: f64,
    price: f64,
}

/// Chooses items: a category by the customer's affinity, then an item of it by
/// Zipf-like popularity (rank r weighs 1/r), tilted by the customer's taste for price.
struct ItemPicker {
    by_category: Vec<Vec<usize>>,
}

impl ItemPicker {
    fn pick(&self, rng: &mut impl Rng, products: &[Product], profile: &Profile) -> usize {
        let category = weighted(rng, &profile.affinity);
        let items = &self.by_category[category];
        let weights: Vec<f64> = items
            .iter()
            .enumerate()
            .map(|(rank, &i)| (products[i].price.powf(profile.price_taste)) / (rank as f64 + 1.0).powf(1.1))
            .collect();
        items[weighted(rng, &weights)]
    }
}

fn weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.r#gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        x -= w;
        if x <= 0.0 {
            return i;
        }
    }
    weights.len() - 1
}

/// A time of day in ms, busiest in the evening.
fn time_of_day(rng: &mut impl Rng) -> i64 {
    const HOURS: [f64; 24] = [
        0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.0, 1.2, 1.3, 1.4, 1.6, 1.4, 1.3, 1.3, 1.4, 1.6, 1.9, 2.3, 2.6, 2.4,
        1.7, 0.9,
    ];
    let hour = weighted(rng, &HOURS) as i64;
    hour * 3_600_000 + rng.gen_range(0..3_600) * 1_000
}

/// Expected orders of a customer on an ordinary day of its active period.
fn order_rate(profile: &Profile, persona: Persona, day: i64) -> f64 {
    let (load, sale) = calendar(day);
    let rate = profile.order_rate * load;
    if persona == Persona::BargainHunter { rate * if sale { 12.0 } else { 0.4 } } else { rate }
}

/// One simulated customer: its type, its events, and its row of the past campaign.
struct SimulatedCustomer {
    persona: Persona,
    events: Vec<Event>,
    campaign: Option<PastCampaignRow>,
}

fn simulate_customer(
    seed: u64,
    index: usize,
    cfg: &ShopConfig,
    products: &[Product],
    picker: &ItemPicker,
) -> SimulatedCustomer {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let shares: Vec<f64> = Persona::ALL.iter().map(|p| p.share()).collect();
    let persona = Persona::ALL[weighted(&mut rng, &shares)];
    let profile = make_profile(&mut rng, persona, cfg);
    let mut events = Vec::new();
    let mut orders = 0usize;
    let end_ms = (cfg.start_day + cfg.days) * MS_PER_DAY;
    for day in profile.first_day..=profile.last_day {
        let (load, sale) = calendar(day);
        let rate = order_rate(&profile, persona, day);
        // Everyone's first active day brings their first order (window shoppers aside).
        let first_order = day == profile.first_day && persona != Persona::WindowShopper;
        let n_orders = if first_order { 1 } else { poisson(&mut rng, rate) };
        for _ in 0..n_orders {
            if orders >= profile.max_orders {
                break;
            }
            orders += 1;
            let order_id = format!("SO{}{:04}", 100_000 + index, orders);
            let at = day * MS_PER_DAY + time_of_day(&mut rng);
            let lines = 1 + poisson(&mut rng, profile.basket_mean - 1.0).min(5);
            let mut basket: Vec<usize> = Vec::with_capacity(lines);
            for line in 0..lines {
                // One line per product: a second pick of the same product is skipped.
                let item = picker.pick(&mut rng, products, &profile);
                if basket.contains(&item) {
                    continue;
                }
                basket.push(item);
                let list_price = products[item].price;
                let price = if sale { (list_price * 0.8 * 100.0).round() / 100.0 } else { list_price };
                let quantity = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0][rng.gen_range(0..10)];
                let browse_start = at - 600_000 * (line as i64 + 1);
                for v in 0..rng.gen_range(0..3) {
                    events.push(Event {
                        ts_ms: browse_start + v * 40_000 + rng.gen_range(0..30) * 1_000,
                        kind: "view",
                        order_id: None,
                        item,
                        quantity: 1.0,
                        price,
                    });
                }
                if rng.gen_bool(0.7) {
                    events.push(Event {
                        ts_ms: at - rng.gen_range(30..300) * 1_000,
                        kind: "cart",
                        order_id: None,
                        item,
                        quantity,
                        price,
                    });
                }
                events.push(Event {
                    ts_ms: at,
                    kind: "purchase",
                    order_id: Some(order_id.clone()),
                    item,
                    quantity,
                    price,
                });
                // A few lines come back: a purchase line with negative quantity, later.
                let returned_at = at + rng.gen_range(5..20) * MS_PER_DAY;
                if rng.gen_bool(0.03) && returned_at < end_ms {
                    events.push(Event {
                        ts_ms: returned_at,
                        kind: "purchase",
                        order_id: Some(format!("C{order_id}")),
                        item,
                        quantity: -quantity,
                        price,
                    });
                }
            }
        }
        for _ in 0..poisson(&mut rng, profile.browse_rate * load) {
            let at = day * MS_PER_DAY + time_of_day(&mut rng);
            for v in 0..rng.gen_range(2..6) {
                let item = picker.pick(&mut rng, products, &profile);
                let price = products[item].price;
                let seen = at + v * 45_000 + rng.gen_range(0..40) * 1_000;
                events.push(Event { ts_ms: seen, kind: "view", order_id: None, item, quantity: 1.0, price });
                if rng.gen_bool(0.06) {
                    events.push(Event {
                        ts_ms: seen + rng.gen_range(5..60) * 1_000,
                        kind: "cart",
                        order_id: None,
                        item,
                        quantity: 1.0,
                        price,
                    });
                }
            }
        }
    }
    // The past campaign draws from its own stream: the history above is the
    // same with or without it, and the campaign only adds its orders.
    let campaign = cfg.past_campaign().and_then(|c| {
        let window_rate: f64 = (c.day..c.day + past_campaign::WINDOW_DAYS)
            .filter(|d| (profile.first_day..=profile.last_day).contains(d))
            .map(|d| order_rate(&profile, persona, d))
            .sum();
        let mut campaign_rng =
            Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xCA4A_16E5 ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let context = past_campaign::CustomerContext {
            persona,
            first_day: profile.first_day,
            base_p0: 1.0 - (-window_rate).exp(),
        };
        past_campaign::run(
            &c,
            &context,
            &mut events,
            &mut campaign_rng,
            |rng| picker.pick(rng, products, &profile),
            products,
            index,
        )
    });
    SimulatedCustomer { persona, events, campaign }
}

fn poisson(rng: &mut impl Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |d| d.sample(rng) as usize)
}

/// Generates the demo shop. Same config, same output, on any number of threads.
pub fn generate_shop(cfg: &ShopConfig) -> PolarsResult<SampleShop> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut products = make_products(&mut rng, cfg.products_per_category);
    // Popularity ranks within each category, fixed by the seed.
    let mut by_category: Vec<Vec<usize>> = vec![Vec::new(); CATEGORIES.len()];
    for (i, p) in products.iter().enumerate() {
        by_category[p.category].push(i);
    }
    for items in &mut by_category {
        items.shuffle(&mut rng);
    }
    let picker = ItemPicker { by_category };
    let customer_seed = rng.next_u64();
    let simulated: Vec<SimulatedCustomer> = (0..cfg.customers)
        .into_par_iter()
        .map(|i| simulate_customer(customer_seed, i, cfg, &products, &picker))
        .collect();

    let customer_ids: Vec<String> = (0..cfg.customers).map(|i| format!("{}", 100_001 + i)).collect();
    let mut ev_customer = Vec::new();
    let mut ev_ts = Vec::new();
    let mut ev_kind = Vec::new();
    let mut ev_order: Vec<Option<String>> = Vec::new();
    let mut ev_item = Vec::new();
    let mut ev_category = Vec::new();
    let mut ev_qty = Vec::new();
    let mut ev_price = Vec::new();
    for (i, customer) in simulated.iter().enumerate() {
        for e in &customer.events {
            ev_customer.push(customer_ids[i].as_str());
            ev_ts.push(e.ts_ms);
            ev_kind.push(e.kind);
            ev_order.push(e.order_id.clone());
            ev_item.push(products[e.item].item_id.as_str());
            ev_category.push(CATEGORIES[products[e.item].category].name);
            ev_qty.push(e.quantity);
            ev_price.push(e.price);
        }
    }
    let n = ev_ts.len();
    let events = DataFrame::new(
        n,
        vec![
            StringChunked::from_slice("customer_id".into(), &ev_customer).into_column(),
            Int64Chunked::from_vec("timestamp".into(), ev_ts).into_datetime(TimeUnit::Milliseconds, None).into_column(),
            StringChunked::from_slice("event_type".into(), &ev_kind).into_column(),
            StringChunked::from_slice_options("order_id".into(), &ev_order).into_column(),
            StringChunked::from_slice("item_id".into(), &ev_item).into_column(),
            StringChunked::from_slice("category".into(), &ev_category).into_column(),
            Float64Chunked::from_vec("quantity".into(), ev_qty).into_column(),
            Float64Chunked::from_vec("price".into(), ev_price).into_column(),
        ],
    )?
    .sort(["timestamp", "customer_id"], SortMultipleOptions::default().with_maintain_order(true))?;

    products.sort_by(|a, b| a.item_id.cmp(&b.item_id));
    let products_df = DataFrame::new(
        products.len(),
        vec![
            StringChunked::from_iter_values("item_id".into(), products.iter().map(|p| p.item_id.as_str()))
                .into_column(),
            StringChunked::from_iter_values("name".into(), products.iter().map(|p| p.name.as_str())).into_column(),
            StringChunked::from_iter_values("name_zh".into(), products.iter().map(|p| p.name_zh.as_str()))
                .into_column(),
            StringChunked::from_iter_values("category".into(), products.iter().map(|p| CATEGORIES[p.category].name))
                .into_column(),
            StringChunked::from_iter_values(
                "category_zh".into(),
                products.iter().map(|p| CATEGORIES[p.category].name_zh),
            )
            .into_column(),
            StringChunked::from_iter_values("brand".into(), products.iter().map(|p| p.brand)).into_column(),
            Float64Chunked::from_iter_values("price".into(), products.iter().map(|p| p.price)).into_column(),
            Float64Chunked::from_iter_values(
                "margin".into(),
                products.iter().map(|p| (p.margin * 1000.0).round() / 1000.0),
            )
            .into_column(),
        ],
    )?;
    let customers = DataFrame::new(
        cfg.customers,
        vec![
            StringChunked::from_iter_values("customer_id".into(), customer_ids.iter().map(String::as_str))
                .into_column(),
            StringChunked::from_iter_values("persona".into(), simulated.iter().map(|c| c.persona.name())).into_column(),
        ],
    )?;
    let past_campaign = match cfg.past_campaign() {
        Some(_) => {
            let rows: Vec<(&str, &PastCampaignRow)> = simulated
                .iter()
                .zip(&customer_ids)
                .filter_map(|(c, id)| c.campaign.as_ref().map(|row| (id.as_str(), row)))
                .collect();
            Some(past_campaign::results_frame(&rows)?)
        }
        None => None,
    };
    Ok(SampleShop { events, products: products_df, customers, past_campaign })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ShopConfig {
        ShopConfig { customers: 120, seed: 7, ..Default::default() }
    }

    #[test]
    fn same_seed_same_shop() {
        let a = generate_shop(&small()).unwrap();
        let b = generate_shop(&small()).unwrap();
        assert!(a.events.equals_missing(&b.events));
        assert!(a.products.equals_missing(&b.products));
        let other = generate_shop(&ShopConfig { seed: 8, ..small() }).unwrap();
        assert!(!a.events.equals_missing(&other.events));
    }

    #[test]
    fn november_is_the_peak() {
        let shop = generate_shop(&ShopConfig { customers: 400, ..small() }).unwrap();
        let months = shop
            .events
            .clone()
            .lazy()
            .filter(col("event_type").eq(lit("purchase")))
            .group_by([col("timestamp").dt().month().alias("month")])
            .agg([len().alias("n")])
            .sort(["n"], SortMultipleOptions::default().with_order_descending(true))
            .collect()
            .unwrap();
        assert_eq!(months.column("month").unwrap().get(0).unwrap(), AnyValue::Int8(11));
    }
}
