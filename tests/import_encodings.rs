//! CSV files as real shops export them (DATA.md §1): UTF-8 with or without a
//! byte-order mark, UTF-16, GBK/GB18030 and Windows-1252, detected with no
//! option given; the headers of Chinese exports; Taobao's UserBehavior layout;
//! an encoding named by the user, and a name that is no encoding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use polars::prelude::*;
use promo_studio::core::features::{CustomerFeatures, customer_features};
use promo_studio::core::import::{
    Canonical, EventsFile, ImportError, LoadedEvents, ReportDetail, TextEncoding, load_events, load_events_encoded,
};

/// A Chinese shop's order lines: headers as its export names them, product
/// and category names in Chinese. Customer 10001 spends 77 on 茶叶 and 100
/// on 茶具; 10002 spends 12 on 日用品.
const CHINESE_SHOP: &str = "客户编号,订单日期,商品,类目,数量,单价\n\
    10001,2024-03-01 10:00:00,绿茶礼盒,茶叶,2,38.5\n\
    10002,2024-03-02 11:30:00,手工香皂,日用品,1,12\n\
    10001,2024-03-05 09:15:00,陶瓷茶杯,茶具,4,25\n";

/// A French shop's lines, accented names; customer 1 spends most on Boissons chaudes.
const FRENCH_SHOP: &str = "customer_id,timestamp,product,category,quantity,price\n\
    1,2024-01-01 09:00:00,Café crème,Boissons chaudes,2,3.5\n\
    1,2024-01-02 09:00:00,Crème brûlée,Desserts,1,4.5\n\
    2,2024-01-03 12:00:00,Pâté,Épicerie fine,1,8\n";

fn encode(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(!unmappable, "{text:?} has characters {} cannot hold", encoding.name());
    bytes.into_owned()
}

fn utf16(text: &str, little_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if little_endian { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() });
    }
    out
}

fn load(bytes: &[u8]) -> LoadedEvents {
    let (_dir, path) = common::fixture("events.csv", bytes);
    load_events(&path, &[]).unwrap()
}

/// The distinct values of a text column of the events table, sorted.
fn texts(loaded: &LoadedEvents, column: &str) -> Vec<String> {
    let c = loaded.events.df.column(column).unwrap().cast(&DataType::String).unwrap();
    let mut values: Vec<String> = c.str().unwrap().iter().flatten().map(String::from).collect();
    values.sort();
    values.dedup();
    values
}

/// Each customer's top category.
fn top_categories(f: &CustomerFeatures) -> Vec<(String, Option<String>)> {
    let ids = f.df.column("customer_id").unwrap().str().unwrap().clone();
    let top = f.df.column("top_category").unwrap().str().unwrap().clone();
    ids.iter().zip(top.iter()).map(|(i, t)| (i.unwrap().to_string(), t.map(String::from))).collect()
}

fn assert_chinese_shop(loaded: &LoadedEvents, encoding: &str) {
    let r = &loaded.report;
    assert_eq!(r.encoding.as_deref(), Some(encoding));
    assert_eq!((r.rows_read, r.rows_usable), (3, 3));
    assert_eq!(r.columns_found, ["客户编号", "订单日期", "商品", "类目", "数量", "单价"]);
    for (canonical, column) in [
        ("customer_id", "客户编号"),
        ("timestamp", "订单日期"),
        ("item_id", "商品"),
        ("category", "类目"),
        ("quantity", "数量"),
        ("price", "单价"),
    ] {
        assert_eq!(r.mapping.get(canonical).map(String::as_str), Some(column), "{canonical}");
    }
    assert_eq!(texts(loaded, "item_id"), ["手工香皂", "绿茶礼盒", "陶瓷茶杯"]);
    let f = customer_features(&loaded.events, None).unwrap();
    assert_eq!(
        top_categories(&f),
        [("10001".to_string(), Some("茶具".to_string())), ("10002".to_string(), Some("日用品".to_string()))]
    );
}

#[test]
fn a_gbk_export_with_chinese_headers_loads_without_an_option() {
    let loaded = load(&encode(CHINESE_SHOP, encoding_rs::GBK));
    assert_chinese_shop(&loaded, "GBK (detected)");
    assert!(!loaded.report.undecodable_bytes);
    assert!(loaded.report.to_string().contains("encoding         GBK (detected)"), "{}", loaded.report);
}

/// GB18030 holds every Unicode character (four bytes for those GBK lacks);
/// it is read as GBK, whose decoder reads GB18030 whole.
#[test]
fn gb18030_characters_beyond_gbk_are_read() {
    let text = CHINESE_SHOP.replace("手工香皂", "手工香皂𠀀€");
    let loaded = load(&encode(&text, encoding_rs::GB18030));
    assert_eq!(loaded.report.encoding.as_deref(), Some("GBK (detected)"));
    assert!(texts(&loaded, "item_id").contains(&"手工香皂𠀀€".to_string()));
}

#[test]
fn utf16_with_and_without_a_byte_order_mark_loads() {
    assert_chinese_shop(&load(&utf16(CHINESE_SHOP, true, true)), "UTF-16LE (byte-order mark)");
    assert_chinese_shop(&load(&utf16(CHINESE_SHOP, false, true)), "UTF-16BE (byte-order mark)");
    assert_chinese_shop(&load(&utf16(CHINESE_SHOP, true, false)), "UTF-16LE (detected)");
    // Excel's "Unicode text": UTF-16LE with a mark, tab-separated.
    let tabs = CHINESE_SHOP.replace(',', "\t");
    let loaded = load(&utf16(&tabs, true, true));
    assert_eq!(loaded.report.format, "CSV, tab-separated");
    assert_chinese_shop(&loaded, "UTF-16LE (byte-order mark)");
}

#[test]
fn utf8_with_and_without_a_byte_order_mark_loads() {
    assert_chinese_shop(&load(CHINESE_SHOP.as_bytes()), "UTF-8 (detected)");
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), CHINESE_SHOP.as_bytes()].concat();
    assert_chinese_shop(&load(&with_bom), "UTF-8 (byte-order mark)");
}

#[test]
fn a_windows_1252_export_keeps_its_accents() {
    let loaded = load(&encode(FRENCH_SHOP, encoding_rs::WINDOWS_1252));
    assert_eq!(loaded.report.encoding.as_deref(), Some("Windows-1252 (detected)"));
    assert_eq!(loaded.report.mapping.get("item_id").map(String::as_str), Some("product"));
    assert_eq!(texts(&loaded, "item_id"), ["Café crème", "Crème brûlée", "Pâté"]);
    let f = customer_features(&loaded.events, None).unwrap();
    assert_eq!(
        top_categories(&f),
        [("1".to_string(), Some("Boissons chaudes".to_string())), ("2".to_string(), Some("Épicerie fine".to_string()))]
    );
}

/// The binary on a GBK file: features.csv (UTF-8) names the categories right.
#[test]
fn features_of_a_gbk_file_through_the_binary() {
    let (_dir, path) = common::fixture("orders.csv", encode(CHINESE_SHOP, encoding_rs::GBK));
    let run = common::run_features(&path, &[]);
    assert!(run.output.status.success(), "{}", common::stderr(&run.output));
    let csv = run.csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("10001,") && lines[1].ends_with(",茶具"), "{csv}");
    assert!(lines[2].starts_with("10002,") && lines[2].ends_with(",日用品"), "{csv}");
}

/// Taobao's UserBehavior layout: behaviour types pv, fav, cart, buy, Unix
/// seconds; every row kept, fav counted as cart (intent short of buying).
#[test]
fn a_user_behavior_file_keeps_its_pv_and_fav_rows() {
    let csv = "user_id,item_id,category_id,behavior_type,timestamp\n\
        1,2268318,2520377,pv,1511544070\n\
        1,2333346,2520771,pv,1511561733\n\
        1,2576651,149192,fav,1511572885\n\
        1,3830808,4181361,buy,1511593493\n\
        2,4365585,2520377,cart,1511596146\n\
        2,4606018,2735466,pv,1511616481\n";
    let loaded = load(csv.as_bytes());
    let r = &loaded.report;
    assert_eq!((r.rows_read, r.rows_usable, r.rows_unusable, r.duplicates_removed), (6, 6, 0, 0));
    assert_eq!((r.events.view, r.events.cart, r.events.purchase), (3, 2, 1));
    assert_eq!(r.mapping.get("category").map(String::as_str), Some("category_id"));
    assert_eq!(r.mapping.get("event_type").map(String::as_str), Some("behavior_type"));
    assert_eq!(r.first_timestamp.as_deref(), Some("2017-11-24 17:21:10"));
    let f = customer_features(&loaded.events, None).unwrap();
    let views = f.df.column("views").unwrap().cast(&DataType::Int64).unwrap();
    let carts = f.df.column("carts").unwrap().cast(&DataType::Int64).unwrap();
    assert_eq!(views.i64().unwrap().to_vec(), [Some(2), Some(1)]);
    assert_eq!(carts.i64().unwrap().to_vec(), [Some(1), Some(1)]);
}

/// Chinese event types and headers of a behaviour log.
#[test]
fn chinese_event_types_map_onto_view_cart_purchase() {
    let csv = "用户ID,商品ID,行为类型,时间\n\
        u1,i1,浏览,2024-05-01 10:00:00\n\
        u1,i1,点击,2024-05-01 10:01:00\n\
        u1,i1,收藏,2024-05-01 10:02:00\n\
        u1,i1,加购,2024-05-01 10:03:00\n\
        u1,i1,下单,2024-05-01 10:04:00\n\
        u2,i2,购买,2024-05-02 10:00:00\n";
    let loaded = load(&encode(csv, encoding_rs::GBK));
    let r = &loaded.report;
    assert_eq!(r.unusable, []);
    assert_eq!((r.events.view, r.events.cart, r.events.purchase), (2, 2, 2));
    assert_eq!(r.mapping.get("customer_id").map(String::as_str), Some("用户ID"));
}

#[test]
fn an_encoding_given_by_name_is_used() {
    let (_dir, path) = common::fixture("orders.csv", encode(CHINESE_SHOP, encoding_rs::GBK));
    let gbk = TextEncoding::from_label("gbk").unwrap();
    let loaded = load_events_encoded(&path, &[], ReportDetail::Full, Some(gbk)).unwrap();
    assert_chinese_shop(&loaded, "GBK (given)");
    assert_eq!(EventsFile::open_with_encoding(&path, Some(gbk)).unwrap().describe(), "CSV, separator ',', GBK (given)");
    // Read as UTF-8 on the user's word: the bytes are named, with what they look like.
    let utf8 = TextEncoding::from_label("UTF-8").unwrap();
    let e = load_events_encoded(&path, &[], ReportDetail::Full, Some(utf8)).unwrap_err();
    assert!(matches!(e, ImportError::NotUtf8 { line: 1, .. }), "{e}");
    assert!(e.to_string().contains("--encoding gbk"), "{e}");
    // A wrong 8-bit encoding reads, as that encoding says: the user asked for it.
    let latin = TextEncoding::from_label("windows-1252").unwrap();
    let e = load_events_encoded(&path, &[], ReportDetail::Full, Some(latin)).unwrap_err();
    assert!(matches!(e, ImportError::Mapping { .. }), "the Chinese headers are not found: {e}");
    let as_latin = |text: &str| encoding_rs::WINDOWS_1252.decode(&encode(text, encoding_rs::GBK)).0.into_owned();
    let map = [(Canonical::CustomerId, as_latin("客户编号")), (Canonical::Timestamp, as_latin("订单日期"))];
    let loaded = load_events_encoded(&path, &map, ReportDetail::Rows, Some(latin)).unwrap();
    assert_eq!(loaded.report.encoding.as_deref(), Some("Windows-1252 (given)"));
}

#[test]
fn an_unknown_encoding_name_is_a_clear_error() {
    let e = TextEncoding::from_label("klingon").unwrap_err();
    assert!(e.contains("unknown encoding \"klingon\"") && e.contains("gbk") && e.contains("windows-1252"), "{e}");
    for label in ["GB2312", "cp936", "latin1", "utf-16", "UTF-16LE", "utf8"] {
        assert!(TextEncoding::from_label(label).is_ok(), "{label}");
    }
}

/// Bytes not valid in the file's encoding are read as U+FFFD, the report
/// says so, and no row is lost: past the start that settled the encoding,
/// and in a file whose encoding is given. (In the start, a malformed
/// sequence rules the encoding out: chardetng then guesses another.)
#[test]
fn undecodable_bytes_are_replaced_and_reported() {
    let mut text = String::from(CHINESE_SHOP);
    let products = ["陶瓷茶杯,茶具", "绿茶礼盒,茶叶", "手工香皂,日用品", "坚果零食大礼包,零食", "新鲜水果拼盘,水果"];
    for (i, product) in products.iter().cycle().enumerate() {
        if text.len() > 2 << 20 {
            break;
        }
        text += &format!("{},2024-03-06 09:15:00,{product},1,25\n", 10003 + i % 50);
    }
    let rows = text.lines().count() as u64 - 1;
    // The last row's product: a GBK lead byte before a comma is no character.
    let bytes = [
        encode(&text, encoding_rs::GBK),
        encode("10004,2024-03-07 09:15:00,坏", encoding_rs::GBK),
        vec![0x81],
        encode(",茶具,1,25\n", encoding_rs::GBK),
    ]
    .concat();
    let loaded = load(&bytes);
    assert_eq!(loaded.report.encoding.as_deref(), Some("GBK (detected)"));
    assert!(loaded.report.undecodable_bytes);
    // Every row read; past the first 50 (of 5 × 50 different ones) exact duplicates.
    let r = &loaded.report;
    assert_eq!((r.rows_read, r.rows_usable, r.rows_unusable), (rows + 1, 3 + 50 + 1, 0));
    assert!(texts(&loaded, "item_id").contains(&"坏\u{FFFD}".to_string()));
    let warnings = loaded.report.warnings().join("\n");
    assert!(warnings.contains("not valid GBK (detected)") && warnings.contains("--encoding"), "{warnings}");

    let mut small = encode(CHINESE_SHOP, encoding_rs::GBK);
    let category = encode(",茶具", encoding_rs::GBK);
    let at = small.windows(category.len()).rposition(|w| w == category.as_slice()).unwrap();
    small.insert(at, 0x81); // after the product 陶瓷茶杯
    let (_dir, path) = common::fixture("events.csv", small);
    let given = load_events_encoded(&path, &[], ReportDetail::Rows, TextEncoding::from_label("gbk").ok()).unwrap();
    assert!(given.report.undecodable_bytes && given.report.rows_usable == 3);
    assert!(given.report.to_string().contains("GBK (given)   some bytes not valid in it"), "{}", given.report);
}

/// Japanese, Korean and Traditional Chinese exports are detected as what
/// they are (GBK's second look at chardetng's Japanese and Korean guesses
/// takes only text without kana, or with as many Chinese characters as
/// Hangul, for GBK).
#[test]
fn japanese_korean_and_traditional_chinese_files_keep_their_encodings() {
    let japanese = "顧客ID,注文日,商品名,カテゴリ,数量,単価\n1,2024-01-01,緑茶ティーバッグ,飲料,2,350\n\
        2,2024-01-02,せんべい詰め合わせ,お菓子,1,1200\n3,2024-01-03,ボールペン黒,文房具,5,120\n";
    let korean = "고객번호,주문일자,상품명,카테고리,수량,단가\n1,2024-01-01,녹차 티백,음료,2,3500\n\
        2,2024-01-02,초코파이 세트,과자,1,12000\n3,2024-01-03,볼펜 검정,문구,5,1200\n";
    let traditional = "客戶編號,訂單日期,商品名稱,類別,數量,單價\n1,2024-01-01,綠茶禮盒,茶葉,2,350\n\
        2,2024-01-02,手工香皂,日用品,1,120\n3,2024-01-03,陶瓷茶杯,茶具,5,250\n";
    for (text, encoding, name) in [
        (japanese, encoding_rs::EUC_JP, "EUC-JP (detected)"),
        (japanese, encoding_rs::SHIFT_JIS, "Shift_JIS (detected)"),
        (korean, encoding_rs::EUC_KR, "EUC-KR (detected)"),
        (traditional, encoding_rs::BIG5, "Big5 (detected)"),
    ] {
        let (_dir, path) = common::fixture("events.csv", encode(text, encoding));
        let file = EventsFile::open(&path).unwrap();
        assert_eq!(file.encoding.map(|e| e.describe()).as_deref(), Some(name));
        assert_eq!(file.headers[0], text.split(',').next().unwrap(), "{name}");
    }
}
