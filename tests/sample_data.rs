//! The bundled demo shop and its generator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, stderr, stdout};
use promo_studio::core::features::customer_features;
use promo_studio::core::import::load_events;
use promo_studio::core::sample::bundled::events_path as sample_events_path;

#[test]
fn bundled_sample_loads_cleanly_and_is_believable() {
    let loaded = load_events(&sample_events_path(), &[]).expect("the bundled sample loads");
    let r = &loaded.report;
    assert_eq!(r.rows_unusable, 0, "{:?}", r.unusable);
    assert_eq!(r.customers, Some(3000));
    assert!(r.events.view > r.events.cart && r.events.cart > 0 && r.events.purchase > 0);
    assert!(r.returns > 0, "some lines are returned");
    let f = customer_features(&loaded.events, None).unwrap();
    let purchasers = f.purchasers();
    // Window shoppers mostly never buy: some customers have no purchase order.
    assert!(purchasers < 3000 && purchasers > 2000, "{purchasers}");
}

#[test]
fn generator_is_deterministic_and_writes_three_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        let o = run(&["generate-sample", "--customers", "60", "--seed", "5", "--out", dir.path().to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("60 customers"));
    }
    for file in ["products.csv", "customers.csv"] {
        assert_eq!(std::fs::read(a.path().join(file)).unwrap(), std::fs::read(b.path().join(file)).unwrap(), "{file}");
    }
    let ea = load_events(&a.path().join("events.parquet"), &[]).unwrap().events.df;
    let eb = load_events(&b.path().join("events.parquet"), &[]).unwrap().events.df;
    assert!(ea.equals_missing(&eb));
    let products = std::fs::read_to_string(a.path().join("products.csv")).unwrap();
    assert!(products.starts_with("item_id,name,name_zh,category,category_zh,brand,price,margin"));
    assert!(products.contains("马克杯") || products.contains("口红") || products.contains("耳机"));
}

#[test]
fn benchmark_logs_read_back_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("e.csv");
    let pq = dir.path().join("e.parquet");
    for (fmt, path) in [("csv", &csv), ("parquet", &pq)] {
        let o = run(&["generate-events", "--rows", "5000", "--format", fmt, "--out", path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let a = load_events(&csv, &[]).unwrap();
    let b = load_events(&pq, &[]).unwrap();
    assert_eq!(a.report.rows_read, 5000);
    assert_eq!(a.report.rows_unusable, 0);
    assert_eq!(a.report.events, b.report.events, "same rows in both formats");
    let fa = customer_features(&a.events, None).unwrap();
    let fb = customer_features(&b.events, None).unwrap();
    assert!(fa.df.equals_missing(&fb.df));
}

#[test]
fn ndjson_is_read() {
    let (_d, p) = common::fixture(
        "events.ndjson",
        "{\"visitorid\": 1, \"timestamp\": 1433221332117, \"event\": \"view\", \"itemid\": 355908}\n\
         {\"visitorid\": 1, \"timestamp\": 1433221500000, \"event\": \"transaction\", \"itemid\": 355908, \"transactionid\": 77}\n",
    );
    let loaded = load_events(&p, &[]).unwrap();
    assert_eq!(loaded.report.rows_usable, 2);
    assert_eq!(loaded.report.events.purchase, 1);
    assert_eq!(loaded.report.first_timestamp.as_deref(), Some("2015-06-02 05:02:12"));
}

#[test]
fn integer_typed_ids_stay_exact_negative_ones_too() {
    let (_d, p) = common::fixture(
        "ints.ndjson",
        "{\"user_id\": 5, \"ts\": \"2024-01-01\", \"item_id\": 10}\n\
         {\"user_id\": -3, \"ts\": \"2024-01-02\", \"item_id\": 11}\n\
         {\"user_id\": 5, \"ts\": \"2024-01-03\", \"item_id\": 10}\n",
    );
    let loaded = load_events(&p, &[]).unwrap();
    assert_eq!(loaded.report.customers, Some(2));
    assert_eq!(loaded.report.items, Some(2));
    let f = customer_features(&loaded.events, None).unwrap();
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    let ids: Vec<&str> = (0..ids.len()).filter_map(|i| ids.get(i)).collect();
    assert_eq!(ids, ["-3", "5"]);
}

#[test]
fn bundled_sample_is_what_the_generator_makes() {
    use promo_studio::core::sample::{ShopConfig, generate_shop};
    let shop = generate_shop(&ShopConfig::default()).unwrap();
    use polars::prelude::SerReader;
    let file = std::fs::File::open(sample_events_path()).unwrap();
    let bundled = polars::prelude::ParquetReader::new(file).finish().unwrap();
    assert!(
        bundled.equals_missing(&shop.events),
        "sample_data/ is stale: run generate-sample --customers 3000 --seed 42 --out sample_data"
    );
    // The past campaign's results, byte for byte as the generator writes them.
    let (mut results, _) = shop.past_campaign.unwrap();
    let mut written = Vec::new();
    use polars::prelude::SerWriter;
    polars::prelude::CsvWriter::new(&mut written).finish(&mut results).unwrap();
    let bundled = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/past_campaign.csv"));
    assert!(bundled.unwrap() == written, "sample_data/past_campaign.csv is stale: run generate-sample");
}

#[test]
fn features_are_the_same_whatever_the_thread_count() {
    let sample = sample_events_path();
    common::assert_same_output_on_1_and_3_threads(&["features", "--events", sample.to_str().unwrap()]);
}

#[test]
fn features_need_no_column_outside_their_list() {
    // `features` drops every event column but COLUMNS_READ before computing:
    // the result must be the same as from the whole table. The sample has
    // numeric customer ids and text item ids; the fixture the other way round,
    // with order ids, so that every id column is needed by one of them.
    let (_dir, fixture) = common::fixture(
        "ids.csv",
        "customer_id,order_id,timestamp,item_id,category,quantity,price,event_type\n\
         C1,A,2024-01-02,10,Tea,2,3,purchase\nC1,B,2024-01-09,11,Cups,1,5,purchase\n\
         C2,C,2024-01-03,10,Tea,1,3,purchase\nC3,,2024-01-04,12,Tea,1,2,view\n",
    );
    for path in [sample_events_path(), fixture] {
        let loaded = load_events(&path, &[]).unwrap();
        let full = customer_features(&loaded.events, None).unwrap();
        let mut trimmed = loaded.events.clone();
        trimmed.retain_columns(&promo_studio::core::features::COLUMNS_READ);
        assert!(trimmed.df.width() < loaded.events.df.width(), "something was dropped");
        let from_trimmed = customer_features(&trimmed, None).unwrap();
        assert!(full.df.equals_missing(&from_trimmed.df), "{path:?}");
    }
}
