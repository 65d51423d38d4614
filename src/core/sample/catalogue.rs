//! The product catalogue of the demo shop: names in English and Chinese,
//! categories, brands, prices and margins.

use rand::Rng;
use rand::seq::SliceRandom;

/// One category of the demo shop with its vocabulary.
pub struct CategorySpec {
    pub name: &'static str,
    pub name_zh: &'static str,
    /// (English, Chinese) product nouns.
    pub nouns: &'static [(&'static str, &'static str)],
    pub brands: &'static [&'static str],
    /// Typical price range in the shop's currency.
    pub price: (f64, f64),
    /// Gross margin range (share of the price).
    pub margin: (f64, f64),
}

pub const CATEGORIES: &[CategorySpec] = &[
    CategorySpec {
        name: "Home & Kitchen",
        name_zh: "家居厨房",
        nouns: &[
            ("Mug", "马克杯"),
            ("Teapot", "茶壶"),
            ("Chopping Board", "砧板"),
            ("Knife Set", "刀具套装"),
            ("Storage Jar", "储物罐"),
            ("Frying Pan", "煎锅"),
            ("Candle", "香薰蜡烛"),
            ("Cushion", "抱枕"),
        ],
        brands: &["Hearth", "Maple & Co", "Qingshan"],
        price: (6.0, 60.0),
        margin: (0.35, 0.55),
    },
    CategorySpec {
        name: "Beauty",
        name_zh: "美妆个护",
        nouns: &[
            ("Lipstick", "口红"),
            ("Face Cream", "面霜"),
            ("Serum", "精华液"),
            ("Sheet Mask", "面膜"),
            ("Perfume", "香水"),
            ("Hand Cream", "护手霜"),
        ],
        brands: &["Lumière", "Peony", "Vela"],
        price: (8.0, 90.0),
        margin: (0.45, 0.7),
    },
    CategorySpec {
        name: "Electronics",
        name_zh: "数码电子",
        nouns: &[
            ("Earbuds", "蓝牙耳机"),
            ("Power Bank", "充电宝"),
            ("Smart Watch", "智能手表"),
            ("Phone Case", "手机壳"),
            ("Speaker", "音箱"),
            ("Charger", "充电器"),
            ("Keyboard", "键盘"),
        ],
        brands: &["Orbit", "Voltline", "Xingchen"],
        price: (12.0, 250.0),
        margin: (0.12, 0.3),
    },
    CategorySpec {
        name: "Fashion",
        name_zh: "服饰鞋包",
        nouns: &[
            ("T-Shirt", "T恤"),
            ("Hoodie", "卫衣"),
            ("Jeans", "牛仔裤"),
            ("Scarf", "围巾"),
            ("Sneakers", "运动鞋"),
            ("Tote Bag", "帆布包"),
        ],
        brands: &["Northwind", "Silk Road", "Urban Fox"],
        price: (10.0, 120.0),
        margin: (0.4, 0.65),
    },
    CategorySpec {
        name: "Sports & Outdoors",
        name_zh: "运动户外",
        nouns: &[
            ("Yoga Mat", "瑜伽垫"),
            ("Water Bottle", "运动水杯"),
            ("Dumbbell", "哑铃"),
            ("Running Socks", "跑步袜"),
            ("Backpack", "双肩包"),
            ("Jump Rope", "跳绳"),
        ],
        brands: &["Peak", "Trailhead", "Swift"],
        price: (5.0, 80.0),
        margin: (0.3, 0.5),
    },
    CategorySpec {
        name: "Toys",
        name_zh: "玩具",
        nouns: &[
            ("Building Blocks", "积木"),
            ("Plush Bear", "毛绒熊"),
            ("Puzzle", "拼图"),
            ("Toy Car", "玩具车"),
            ("Kite", "风筝"),
        ],
        brands: &["Panda Play", "Tinker", "Sunny"],
        price: (5.0, 70.0),
        margin: (0.35, 0.55),
    },
    CategorySpec {
        name: "Books & Stationery",
        name_zh: "图书文具",
        nouns: &[
            ("Novel", "小说"),
            ("Cookbook", "菜谱"),
            ("Notebook", "笔记本"),
            ("Planner", "日程本"),
            ("Fountain Pen", "钢笔"),
        ],
        brands: &["Inkwell", "Paper Crane", "Folio"],
        price: (3.0, 40.0),
        margin: (0.2, 0.45),
    },
    CategorySpec {
        name: "Grocery",
        name_zh: "食品饮料",
        nouns: &[
            ("Green Tea", "绿茶"),
            ("Coffee Beans", "咖啡豆"),
            ("Dark Chocolate", "黑巧克力"),
            ("Mixed Nuts", "混合坚果"),
            ("Honey", "蜂蜜"),
            ("Oolong Tea", "乌龙茶"),
        ],
        brands: &["Harvest", "Yunnan Hills", "Bean & Leaf"],
        price: (2.5, 30.0),
        margin: (0.15, 0.35),
    },
    CategorySpec {
        name: "Pet Supplies",
        name_zh: "宠物用品",
        nouns: &[("Cat Toy", "猫玩具"), ("Dog Treats", "狗零食"), ("Pet Bed", "宠物窝"), ("Litter Scoop", "猫砂铲")],
        brands: &["Whiskers", "Good Boy"],
        price: (3.0, 55.0),
        margin: (0.3, 0.5),
    },
];

const ADJECTIVES: &[(&str, &str)] = &[
    ("Classic", "经典"),
    ("Deluxe", "豪华"),
    ("Mini", "迷你"),
    ("Eco", "环保"),
    ("Premium", "高级"),
    ("Travel", "旅行"),
    ("Soft", "柔软"),
    ("Bamboo", "竹制"),
    ("Ceramic", "陶瓷"),
    ("Limited", "限量"),
    ("Everyday", "日常"),
    ("Pro", "专业"),
];

/// One product of the demo shop.
#[derive(Clone, Debug)]
pub struct Product {
    pub item_id: String,
    pub name: String,
    pub name_zh: String,
    pub category: usize,
    pub brand: &'static str,
    pub price: f64,
    pub margin: f64,
}

/// Makes `per_category` distinct products for every category.
pub fn make_products(rng: &mut impl Rng, per_category: usize) -> Vec<Product> {
    let mut products = Vec::new();
    for (c, spec) in CATEGORIES.iter().enumerate() {
        let mut combos: Vec<(usize, usize, usize)> = (0..spec.nouns.len())
            .flat_map(|n| (0..ADJECTIVES.len()).flat_map(move |a| (0..3).map(move |b| (n, a, b))))
            .collect();
        combos.shuffle(rng);
        for &(n, a, b) in combos.iter().take(per_category) {
            let brand = spec.brands[b % spec.brands.len()];
            let (noun, noun_zh) = spec.nouns[n];
            let (adj, adj_zh) = ADJECTIVES[a];
            let raw_price = spec.price.0 * (spec.price.1 / spec.price.0).powf(rng.r#gen::<f64>());
            // Shop prices end in .99 or .49.
            let price = (raw_price.floor() + if rng.gen_bool(0.7) { 0.99 } else { 0.49 }).max(0.99);
            products.push(Product {
                item_id: format!("P{:05}", products.len() + 1),
                name: format!("{brand} {adj} {noun}"),
                name_zh: format!("{brand} {adj_zh}{noun_zh}"),
                category: c,
                brand,
                price,
                margin: rng.gen_range(spec.margin.0..spec.margin.1),
            });
        }
    }
    products
}
