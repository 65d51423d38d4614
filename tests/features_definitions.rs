//! DATA.md §1–2 on small hand-made tables whose answers were worked out by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use polars::prelude::*;
use promo_studio::core::features::{CustomerFeatures, customer_features};
use promo_studio::core::import::{UnusableReason, load_events, parse::parse_timestamp};

fn features_of(csv: &str, as_of: Option<&str>) -> CustomerFeatures {
    let (_dir, path) = common::fixture("events.csv", csv);
    let loaded = load_events(&path, &[]).expect("loads");
    customer_features(&loaded.events, as_of.map(|t| parse_timestamp(t).expect("as_of parses"))).expect("features")
}

/// The row of one customer as (column → value) text, nulls as "null".
fn row(f: &CustomerFeatures, customer: &str) -> std::collections::HashMap<String, String> {
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    let i = (0..ids.len()).position(|i| ids.get(i) == Some(customer)).expect("customer present");
    f.df.columns()
        .iter()
        .map(|c| {
            let v = c.get(i).unwrap();
            let text = match v {
                AnyValue::Null => "null".to_string(),
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            };
            (c.name().to_string(), text)
        })
        .collect()
}

fn num(f: &CustomerFeatures, customer: &str, column: &str) -> Option<f64> {
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    let i = (0..ids.len()).position(|i| ids.get(i) == Some(customer)).expect("customer present");
    let values = f.df.column(column).unwrap().cast(&DataType::Float64).unwrap();
    values.f64().unwrap().get(i)
}

const SHOP: &str = "\
customer_id,timestamp,event_type,order_id,item_id,category,quantity,price
A,2024-01-01 10:00:00,view,,i1,Toys,1,5
A,2024-01-01 10:05:00,cart,,i1,Toys,1,5
A,2024-01-01 10:10:00,purchase,o1,i1,Toys,2,5
A,2024-01-01 10:10:00,purchase,o1,i2,Books,1,20
A,2024-01-05 12:00:00,purchase,o2,i3,Books,1,4
A,2024-01-08 00:00:00,purchase,C9,i1,Toys,-1,5
B,2024-01-03 00:00:00,view,,i2,Books,1,20
B,2024-01-03,cart,,i2,Books,1,20
C,2024-01-09 00:00:00,purchase,o3,i4,Garden,1,10
C,2024-01-02 00:00:00,purchase,o4,i5,Toys,1,10
";

#[test]
fn header_and_order_follow_data_md() {
    let f = features_of(SHOP, None);
    let names: Vec<String> = f.df.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "recency_days",
            "tenure_days",
            "frequency",
            "monetary",
            "avg_order_value",
            "views",
            "carts",
            "purchases",
            "distinct_items",
            "distinct_categories",
            "top_category"
        ]
    );
    let ids = f.df.column("customer_id").unwrap().str().unwrap();
    let ids: Vec<_> = (0..ids.len()).filter_map(|i| ids.get(i)).collect();
    assert_eq!(ids, ["A", "B", "C"], "one row per customer, sorted");
}

#[test]
fn returns_reduce_monetary_and_cancellations_are_not_orders() {
    let f = features_of(SHOP, None);
    // as_of = latest timestamp = 2024-01-09 00:00. A's orders: o1 (01-01 10:10), o2 (01-05 12:00);
    // C9 has only a negative line, so it is not a purchase order.
    assert_eq!(num(&f, "A", "frequency"), Some(2.0));
    assert_eq!(num(&f, "A", "monetary"), Some(10.0 + 20.0 + 4.0 - 5.0));
    assert_eq!(num(&f, "A", "avg_order_value"), Some(29.0 / 2.0));
    assert_eq!(num(&f, "A", "recency_days"), Some(3.5));
    let tenure = num(&f, "A", "tenure_days").unwrap();
    assert!((tenure - (7.0 + 13.0 / 24.0 + 50.0 / 1440.0)).abs() < 1e-9, "{tenure}");
    assert_eq!(num(&f, "A", "views"), Some(1.0));
    assert_eq!(num(&f, "A", "carts"), Some(1.0));
    assert_eq!(num(&f, "A", "purchases"), Some(4.0));
    assert_eq!(num(&f, "A", "distinct_items"), Some(3.0));
    assert_eq!(num(&f, "A", "distinct_categories"), Some(2.0));
    // Toys: 10 − 5 = 5, Books: 24.
    assert_eq!(row(&f, "A")["top_category"], "Books");
}

#[test]
fn customers_without_purchases_get_a_row() {
    let f = features_of(SHOP, None);
    let b = row(&f, "B");
    assert_eq!(b["frequency"], "0");
    assert_eq!(b["monetary"], "0.0");
    for null in ["recency_days", "tenure_days", "avg_order_value", "top_category"] {
        assert_eq!(b[null], "null", "{null}");
    }
    assert_eq!(b["views"], "1");
    assert_eq!(b["carts"], "1", "the date-only cart row counts");
    assert_eq!(b["distinct_items"], "0");
}

#[test]
fn top_category_ties_go_to_the_alphabetically_first() {
    let f = features_of(SHOP, None);
    // Garden 10 vs Toys 10.
    assert_eq!(row(&f, "C")["top_category"], "Garden");
    assert_eq!(num(&f, "C", "recency_days"), Some(0.0));
    assert_eq!(num(&f, "C", "tenure_days"), Some(7.0));
}

#[test]
fn as_of_cuts_later_rows_and_date_only_means_start_of_day() {
    let f = features_of(SHOP, Some("2024-01-05"));
    // A: only o1 remains (o2 is at 12:00 on the as-of day).
    assert_eq!(num(&f, "A", "frequency"), Some(1.0));
    assert_eq!(num(&f, "A", "monetary"), Some(30.0));
    let recency = num(&f, "A", "recency_days").unwrap();
    assert!((recency - (3.0 + 13.0 / 24.0 + 50.0 / 1440.0)).abs() < 1e-9);
    assert_eq!(num(&f, "C", "frequency"), Some(1.0));
    assert_eq!(num(&f, "C", "recency_days"), Some(3.0));
    // A date-only as-of keeps purchases at midnight of that day.
    let f = features_of(SHOP, Some("2024-01-09"));
    assert_eq!(num(&f, "C", "frequency"), Some(2.0));
    assert_eq!(num(&f, "C", "recency_days"), Some(0.0));
}

#[test]
fn without_order_id_an_order_is_a_customer_and_timestamp() {
    let f = features_of(
        "customer_id,timestamp,quantity,price\n\
         x,2024-03-01 09:00,1,2.5\n\
         x,2024-03-01 09:00,2,1\n\
         x,2024-03-02 09:00,1,3\n",
        None,
    );
    // No event_type: every row is a purchase. Two orders; amount = quantity × price.
    assert_eq!(num(&f, "x", "frequency"), Some(2.0));
    assert_eq!(num(&f, "x", "monetary"), Some(2.5 + 2.0 + 3.0));
    assert_eq!(num(&f, "x", "purchases"), Some(3.0));
    let r = row(&f, "x");
    assert_eq!(r["distinct_items"], "null", "no item_id column");
    assert_eq!(r["top_category"], "null", "no category column");
}

#[test]
fn amount_column_wins_over_quantity_times_price() {
    let f = features_of(
        "user_id,date,qty,unit_price,line_total\n\
         7,2024-03-01,2,5,9.5\n\
         7,2024-03-02,1,5,\n",
        None,
    );
    // The empty amount falls back to quantity × price.
    assert_eq!(num(&f, "7", "monetary"), Some(9.5 + 5.0));
}

#[test]
fn float_ids_are_the_same_customer() {
    let f = features_of(
        "CustomerID,InvoiceDate,InvoiceNo,Quantity,UnitPrice\n\
         12346.0,2011-01-18 10:01,541431,1,1\n\
         12346,2011-01-19 10:17,541432,1,2\n",
        None,
    );
    assert_eq!(f.customers(), 1);
    assert_eq!(num(&f, "12346", "frequency"), Some(2.0));
}

#[test]
fn unusable_rows_are_counted_with_examples_never_dropped_silently() {
    let csv = "\
customer_id,timestamp,event_type,quantity,price
a,2024-01-01,purchase,1,2
,2024-01-01,purchase,1,2
b,not a date,purchase,1,2
c,2024-01-02,remove_from_cart,1,2
d,2024-01-02,purchase,two,2
e,2024-01-02,purchase,1,€2
a,2024-01-01,purchase,1,2
f,2024-01-03,purchase,1,0
g,2024-01-03,purchase,1,-4
";
    let (_dir, path) = common::fixture("mixed.csv", csv);
    let r = load_events(&path, &[]).unwrap().report;
    assert_eq!(r.rows_read, 9);
    assert_eq!(r.unusable_count(UnusableReason::MissingCustomerId), 1);
    assert_eq!(r.unusable_count(UnusableReason::UnparseableTimestamp), 1);
    assert_eq!(r.unusable_count(UnusableReason::UnknownEventType), 1);
    assert_eq!(r.unusable_count(UnusableReason::NonNumericQuantity), 1);
    assert_eq!(r.unusable_count(UnusableReason::NonNumericPrice), 1);
    assert_eq!(r.duplicates_removed, 1);
    assert_eq!(r.duplicate_examples, vec![7]);
    assert_eq!(r.rows_usable, 3);
    assert_eq!(r.rows_read, r.rows_usable + r.rows_unusable + r.duplicates_removed, "every row accounted for");
    let ts = r.unusable.iter().find(|u| u.reason == UnusableReason::UnparseableTimestamp).unwrap();
    assert_eq!(ts.examples[0].row, 3);
    assert_eq!(ts.examples[0].value.as_deref(), Some("not a date"));
    assert_eq!(r.zero_prices, 1);
    assert_eq!(r.negative_prices, 1);
    assert_eq!(r.customers, Some(3));
}

#[test]
fn examples_stop_at_five() {
    let mut csv = String::from("customer_id,timestamp\n");
    for i in 0..12 {
        csv.push_str(&format!("c{i},garbage{i}\n"));
    }
    csv.push_str("ok,2024-01-01\n");
    let (_dir, path) = common::fixture("many.csv", csv);
    let r = load_events(&path, &[]).unwrap().report;
    let u = &r.unusable[0];
    assert_eq!(u.count, 12);
    assert_eq!(u.examples.iter().map(|e| e.row).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
}
