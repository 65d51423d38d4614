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
                // Chinese shop exports (Taobao, Tmall, JD, Youzan, WeChat shops).
                "用户id",
                "客户编号",
                "会员id",
                "买家id",
                "客户id",
                "用户编号",
                "会员编号",
                "买家编号",
                "买家会员名",
                "买家昵称",
                "用户",
                "客户",
                "会员",
                "买家",
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
                "时间",
                "下单时间",
                "订单日期",
                "支付时间",
                "付款时间",
                "订单时间",
                "创建时间",
                "交易时间",
                "成交时间",
                "日期",
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
                "行为类型",
                "行为",
                "事件类型",
                "事件",
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
                "订单号",
                "订单编号",
                "订单id",
                "子订单编号",
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
                "商品id",
                "商品编号",
                "商品编码",
                "货号",
                // A product column of a Chinese export names the product.
                "商品",
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
                "类目",
                "品类",
                "商品类目",
                "商品分类",
                "类别",
                "分类",
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
                "数量",
                "购买数量",
                "商品数量",
                "件数",
            ],
            Canonical::Price => &[
                "price",
                "unitprice",
                "itemprice",
                "priceeach",
                "unitcost",
                "saleprice",
                "sellingprice",
                "单价",
                "单价元",
                "商品单价",
                "价格",
            ],
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
                "金额",
                "实付金额",
                "订单金额",
                "金额元",
                "实付金额元",
                "订单金额元",
                "实付款",
                "实付款元",
                "支付金额",
                "小计",
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

    /// DATA.md §1's headers of Chinese shop exports.
    #[test]
    fn chinese_headers_map_by_alias() {
        let expected = [
            (&["用户ID", "客户编号", "会员ID", "买家ID", "用户ｉｄ"][..], Canonical::CustomerId),
            (&["时间", "下单时间", "订单日期", "支付时间"][..], Canonical::Timestamp),
            (&["订单号", "订单编号"][..], Canonical::OrderId),
            (&["商品ID", "商品编号", "商品"][..], Canonical::ItemId),
            (&["类目", "品类", "商品类目"][..], Canonical::Category),
            (&["数量", "购买数量"][..], Canonical::Quantity),
            (&["单价", "单价(元)"][..], Canonical::Price),
            (&["金额", "实付金额", "订单金额", "实付金额（元）"][..], Canonical::Amount),
            (&["行为类型"][..], Canonical::EventType),
        ];
        for (names, canonical) in expected {
            for name in names {
                // (Alone in the file: the mapping still holds it, beside the missing required columns.)
                let (m, _) = ColumnMapping::propose(&headers(&[name]), &[]);
                assert_eq!(m.get(canonical), Some(*name), "{name}");
            }
        }
        // A product ID beside a product (name) column: the ID is the item.
        let h = headers(&["客户编号", "订单日期", "商品", "商品ID", "数量", "单价"]);
        let (m, problems) = ColumnMapping::propose(&h, &[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(m.get(Canonical::ItemId), Some("商品ID"));
    }

    /// Taobao's UserBehavior layout maps whole.
    #[test]
    fn taobao_user_behavior_headers_map_by_alias() {
        let h = headers(&["user_id", "item_id", "category_id", "behavior_type", "timestamp"]);
        let (m, problems) = ColumnMapping::propose(&h, &[]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(m.get(Canonical::CustomerId), Some("user_id"));
        assert_eq!(m.get(Canonical::ItemId), Some("item_id"));
        assert_eq!(m.get(Canonical::Category), Some("category_id"));
        assert_eq!(m.get(Canonical::EventType), Some("behavior_type"));
        assert_eq!(m.get(Canonical::Timestamp), Some("timestamp"));
    }

    #[test]
    fn parse_map_argument() {
        assert_eq!(parse_override("customer_id=Kunde"), Ok((Canonical::CustomerId, "Kunde".to_string())));
        assert!(parse_override("customer=Kunde").is_err());
        assert!(parse_override("customer_id").is_err());
    }
}
