//! The canonical columns of DATA.md §1 and the mapping from a file's own headers.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::parse::normalise_name;

/// A column of the canonical events table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Canonical {
    CustomerId,
    Timestamp,
    EventType,
    OrderId,
    ItemId,
    Category,
    Quantity,
    Price,
    Amount,
}

impl Canonical {
    pub const ALL: [Canonical; 9] = [
        Canonical::CustomerId,
        Canonical::Timestamp,
        Canonical::EventType,
        Canonical::OrderId,
        Canonical::ItemId,
        Canonical::Category,
        Canonical::Quantity,
        Canonical::Price,
        Canonical::Amount,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Canonical::CustomerId => "customer_id",
            Canonical::Timestamp => "timestamp",
            Canonical::EventType => "event_type",
            Canonical::OrderId => "order_id",
            Canonical::ItemId => "item_id",
            Canonical::Category => "category",
            Canonical::Quantity => "quantity",
            Canonical::Price => "price",
            Canonical::Amount => "amount",
        }
    }

    pub fn from_name(name: &str) -> Option<Canonical> {
        Canonical::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn required(self) -> bool {
        matches!(self, Canonical::CustomerId | Canonical::Timestamp)
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Canonical::Quantity | Canonical::Price | Canonical::Amount)
    }

    /// Header names (normalised: lower case, letters and digits only) that real
    /// exports use for this column, most specific first. The canonical name
    /// itself always matches.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Canonical::CustomerId => &[
                "customerid",
                "customer",
                "custid",
                "customerno",
                "customernumber",
                "customerkey",
                "customeruniqueid",
                "clientid",
                "client",
                "userid",
                "user",
                "uid",
                "visitorid",
                "visitor",
                "memberid",
                "member",
                "buyerid",
                "shopperid",
                "accountid",
                "personid",
            ],
            Canonical::Timestamp => &[
                "timestamp",
                "invoicedate",
                "eventtime",
                "eventtimestamp",
                "datetime",
                "date",
                "time",
                "ts",
                "orderdate",
                "ordertime",
                "orderdatetime",
                "orderpurchasetimestamp",
                "purchasedate",
                "purchasetime",
                "transactiondate",
                "transactiontime",
                "eventdate",
                "createdat",
                "created",
                "occurredat",
            ],
            Canonical::EventType => &[
                "eventtype",
                "event",
                "eventname",
                "type",
                "action",
                "actiontype",
                "behavior",
                "behaviour",
                "behaviortype",
                "interaction",
                "interactiontype",
            ],
            Canonical::OrderId => &[
                "orderid",
                "invoiceno",
                "invoice",
                "invoiceid",
                "invoicenumber",
                "transactionid",
                "orderno",
                "ordernumber",
                "basketid",
                "receiptid",
                "receiptno",
                "billno",
            ],
            Canonical::ItemId => &[
                "itemid",
                "stockcode",
                "productid",
                "sku",
                "product",
                "item",
                "articleid",
                "article",
                "productcode",
                "itemcode",
                "asin",
                "skuid",
                "variantid",
            ],
            Canonical::Category => &[
                "category",
                "categoryid",
                "categoryname",
                "categorycode",
                "productcategory",
                "productcategoryname",
                "itemcategory",
                "department",
                "productgroup",
                "categoryl1",
            ],
            Canonical::Quantity => &[
                "quantity",
                "qty",
                "units",
                "unitssold",
                "itemcount",
                "numberofitems",
                "numberofcds",
                "count",
                "orderedquantity",
            ],
            Canonical::Price => {
                &["price", "unitprice", "itemprice", "priceeach", "unitcost", "saleprice", "sellingprice"]
            }
            Canonical::Amount => &[
                "amount",
                "lineamount",
                "linetotal",
                "total",
                "totalprice",
                "totalamount",
                "revenue",
                "sales",
                "salesamount",
                "value",
                "dollarvalue",
                "ordervalue",
                "subtotal",
                "spend",
                "paymentvalue",
            ],
        }
    }
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which file column serves each canonical column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub columns: BTreeMap<Canonical, String>,
}

/// Why a mapping could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingProblem {
    /// A required canonical column found no file column.
    Missing(Canonical),
    /// `--map` named a file column that the file does not have.
    UnknownFileColumn { canonical: Canonical, file_column: String },
}

impl ColumnMapping {
    pub fn get(&self, canonical: Canonical) -> Option<&str> {
        self.columns.get(&canonical).map(String::as_str)
    }

    pub fn has(&self, canonical: Canonical) -> bool {
        self.columns.contains_key(&canonical)
    }

    /// Proposes a mapping from the file's headers: explicit overrides first,
    /// then for each canonical column the first alias that matches a header not
    /// yet taken. Returns the mapping and any problems (missing required columns,
    /// overrides naming absent headers).
    pub fn propose(headers: &[String], overrides: &[(Canonical, String)]) -> (ColumnMapping, Vec<MappingProblem>) {
        let mut mapping = ColumnMapping::default();
        let mut problems = Vec::new();
        let mut taken: Vec<&str> = Vec::new();
        for (canonical, file_column) in overrides {
            // An empty file column means "not used": the field stays unmapped
            // (and, being overridden, is not looked up by its aliases either).
            if file_column.is_empty() {
                continue;
            }
            if headers.iter().any(|h| h == file_column) {
                mapping.columns.insert(*canonical, file_column.clone());
                taken.push(file_column);
            } else {
                problems.push(MappingProblem::UnknownFileColumn {
                    canonical: *canonical,
                    file_column: file_column.clone(),
                });
            }
        }
        let normalised: Vec<String> = headers.iter().map(|h| normalise_name(h)).collect();
        for canonical in Canonical::ALL {
            if mapping.has(canonical) || overrides.iter().any(|(c, _)| *c == canonical) {
                continue;
            }
            let found = std::iter::once(normalise_name(canonical.name()).as_str())
                .chain(canonical.aliases().iter().copied())
                .find_map(|alias| {
                    normalised.iter().position(|h| h == alias).filter(|&i| !taken.contains(&headers[i].as_str()))
                });
            if let Some(i) = found {
                mapping.columns.insert(canonical, headers[i].clone());
                taken.push(&headers[i]);
            }
        }
        for canonical in Canonical::ALL {
            if canonical.required()
                && !mapping.has(canonical)
                && !problems
                    .iter()
                    .any(|p| matches!(p, MappingProblem::UnknownFileColumn { canonical: c, .. } if *c == canonical))
            {
                problems.push(MappingProblem::Missing(canonical));
            }
        }
        (mapping, problems)
    }
}

/// Parses a `--map canonical=FileColumn` argument.
pub fn parse_override(arg: &str) -> Result<(Canonical, String), String> {
    let (canonical, file_column) =
        arg.split_once('=').ok_or_else(|| format!("--map expects canonical=FileColumn, got {arg:?}"))?;
    let canonical = Canonical::from_name(canonical.trim()).ok_or_else(|| {
        let names: Vec<&str> = Canonical::ALL.iter().map(|c| c.name()).collect();
        format!("--map: unknown canonical column {canonical:?}; expected one of {}", names.join(", "))
    })?;
    Ok((canonical, file_column.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn online_retail_headers_map_by_alias() {
        let h = headers(&[
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ]);
        let (m, problems) = ColumnMapping::propose(&h, &[]);
        assert!(problems.is_empty());
        assert_eq!(m.get(Canonical::CustomerId), Some("CustomerID"));
        assert_eq!(m.get(Canonical::Timestamp), Some("InvoiceDate"));
        assert_eq!(m.get(Canonical::OrderId), Some("InvoiceNo"));
        assert_eq!(m.get(Canonical::ItemId), Some("StockCode"));
        assert_eq!(m.get(Canonical::Quantity), Some("Quantity"));
        assert_eq!(m.get(Canonical::Price), Some("UnitPrice"));
        assert_eq!(m.get(Canonical::EventType), None);
        assert_eq!(m.get(Canonical::Amount), None);
    }

    #[test]
    fn event_log_headers_map_by_alias() {
        let h =
            headers(&["event_time", "event_type", "product_id", "category_code", "price", "user_id", "user_session"]);
        let (m, problems) = ColumnMapping::propose(&h, &[]);
        assert!(problems.is_empty());
        assert_eq!(m.get(Canonical::CustomerId), Some("user_id"));
        assert_eq!(m.get(Canonical::Timestamp), Some("event_time"));
        assert_eq!(m.get(Canonical::ItemId), Some("product_id"));
        assert_eq!(m.get(Canonical::Category), Some("category_code"));
    }

    #[test]
    fn an_empty_override_leaves_the_field_unmapped() {
        let h = headers(&["CustomerID", "InvoiceDate", "UnitPrice", "Quantity"]);
        let (m, problems) = ColumnMapping::propose(&h, &[(Canonical::Price, String::new())]);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!m.has(Canonical::Price), "UnitPrice is an alias of price, but price was set to not used");
        assert!(m.has(Canonical::Quantity));
    }

    #[test]
    fn overrides_win_and_unknown_override_is_reported() {
        let h = headers(&["who", "when", "CustomerID"]);
        let (m, problems) =
            ColumnMapping::propose(&h, &[(Canonical::CustomerId, "who".into()), (Canonical::Timestamp, "when".into())]);
        assert!(problems.is_empty());
        assert_eq!(m.get(Canonical::CustomerId), Some("who"));
        let (_, problems) = ColumnMapping::propose(&h, &[(Canonical::Timestamp, "nope".into())]);
        assert_eq!(
            problems,
            vec![MappingProblem::UnknownFileColumn { canonical: Canonical::Timestamp, file_column: "nope".into() }]
        );
    }

    #[test]
    fn missing_required_column_is_reported() {
        let (_, problems) = ColumnMapping::propose(&headers(&["transaction_id", "item"]), &[]);
        assert_eq!(
            problems,
            vec![MappingProblem::Missing(Canonical::CustomerId), MappingProblem::Missing(Canonical::Timestamp)]
        );
    }

    #[test]
    fn parse_map_argument() {
        assert_eq!(parse_override("customer_id=Kunde"), Ok((Canonical::CustomerId, "Kunde".to_string())));
        assert!(parse_override("customer=Kunde").is_err());
        assert!(parse_override("customer_id").is_err());
    }
}
