//! The campaign file (DATA.md §7): one JSON document that the Promotions screen
//! edits and saves and the command line reads. This module owns its typed,
//! versioned shape, reading it with errors that say where (line, column and
//! the field's path), writing it back, and checking every value a marketer can
//! get wrong, all problems at once, each named by its path
//! (`offers[2].eligible.rules[0].feature`).
//!
//! Reading and checking are separate on purpose: the editor must open a draft
//! that is not finished yet (no offers, a channel still to add), while `plan`
//! and `simulate` refuse to run on one. [`read_campaign`] checks the syntax,
//! the structure and the version; [`Campaign::validate`] checks the values
//! against what is known about the data ([`Known`]); [`load_campaign`] does both.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The campaign file version this program writes and the newest it reads.
pub const CAMPAIGN_FILE_VERSION: u32 = 1;

/// The customer-value columns (DATA.md §5) a rule can test as well: P(alive),
/// expected purchases, expected spend and CLV, named as `value.csv` names them.
pub const VALUE_FEATURES: [&str; 4] = ["p_alive", "expected_purchases", "expected_spend", "clv"];

// ---------------------------------------------------------------------------
// The file's structures
// ---------------------------------------------------------------------------

/// A campaign: who may get which offer, through which channel, and the money
/// it is judged by. Field order is the file's order when written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Absent in hand-written files, which are version 1; always written, so a
    /// later program can tell an old file from a new one.
    #[serde(default = "default_version")]
    pub version: u32,
    pub name: String,
    /// The window over which the outcome is counted, in days (fractions allowed).
    #[serde(default = "default_horizon_days")]
    pub horizon_days: f64,
    /// Gross margin as a share of list-price revenue, in (0, 1].
    #[serde(default = "default_margin")]
    pub margin: f64,
    /// A cap on the expected cost (discounts + messages); none: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    /// The share of assigned customers held out at random as the control group.
    #[serde(default)]
    pub holdout: f64,
    #[serde(default)]
    pub assignment: Assignment,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub channels: Vec<Channel>,
    pub offers: Vec<Offer>,
    /// The default response model's assumptions; absent: [`Assumptions::default`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assumptions: Option<Assumptions>,
}

fn default_version() -> u32 {
    1
}

fn default_horizon_days() -> f64 {
    30.0
}

fn default_margin() -> f64 {
    1.0
}

fn default_seed() -> u64 {
    42
}

fn default_reach() -> f64 {
    1.0
}

impl Campaign {
    /// An empty draft with every default of DATA.md §7, for the editor's "new campaign".
    pub fn new(name: impl Into<String>) -> Self {
        Campaign {
            version: CAMPAIGN_FILE_VERSION,
            name: name.into(),
            horizon_days: default_horizon_days(),
            margin: default_margin(),
            budget: None,
            holdout: 0.0,
            assignment: Assignment::default(),
            seed: default_seed(),
            channels: Vec::new(),
            offers: Vec::new(),
            assumptions: None,
        }
    }

    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }

    pub fn offer(&self, name: &str) -> Option<&Offer> {
        self.offers.iter().find(|o| o.name == name)
    }

    /// Adds a 10%-off offer through the first channel (an e-mail channel is
    /// added if there is none), named so that no two offers share a name.
    /// Returns its index.
    pub fn add_offer(&mut self) -> usize {
        if self.channels.is_empty() {
            self.channels.push(Channel::new("email"));
        }
        let name = (1..)
            .map(|i| if i == 1 { "New offer".to_string() } else { format!("New offer {i}") })
            .find(|n| self.offer(n).is_none())
            .unwrap_or_default();
        let mut offer = Offer::new(name, OfferKind::PercentOff, self.channels[0].name.clone());
        offer.value = Some(10.0);
        self.offers.push(offer);
        self.offers.len() - 1
    }

    /// Points each offer at the calibrated arm of the same name (ignoring
    /// case), the arm that tested it; returns the offers matched. Offers with
    /// no arm of their name keep their response.
    pub fn use_arms(&mut self, arms: &[String]) -> Vec<String> {
        let mut matched = Vec::new();
        for offer in &mut self.offers {
            if let Some(arm) = arms.iter().find(|a| a.trim().eq_ignore_ascii_case(offer.name.trim())) {
                offer.response = Some(arm.clone());
                matched.push(offer.name.clone());
            }
        }
        matched
    }

    /// The assumptions in force: the file's, or the documented defaults.
    pub fn assumptions_or_default(&self) -> Assumptions {
        self.assumptions.clone().unwrap_or_default()
    }

    /// The file's text, pretty-printed. Refuses numbers JSON cannot hold (NaN,
    /// infinities): serde_json would write them as `null`, a file that could not
    /// be read back. Everything else is written, drafts included.
    pub fn to_json_pretty(&self) -> Result<String, CampaignError> {
        let non_finite: Vec<Problem> = self
            .numbers()
            .into_iter()
            .filter(|(_, x)| !x.is_finite())
            .map(|(path, x)| Problem::new(path, format!("must be a finite number, got {x}")))
            .collect();
        if !non_finite.is_empty() {
            return Err(CampaignError::Invalid(non_finite));
        }
        serde_json::to_string_pretty(self).map_err(|e| CampaignError::Invalid(vec![Problem::new("", e.to_string())]))
    }

    /// The whole file as saved: the pretty JSON and a final newline, ready for
    /// the core's atomic writer.
    pub fn to_file_text(&self) -> Result<String, CampaignError> {
        let mut text = self.to_json_pretty()?;
        text.push('\n');
        Ok(text)
    }

    /// Writes the file text; the signature fits `output::write_atomically`'s closure.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> Result<(), String> {
        let text = self.to_file_text().map_err(|e| e.to_string())?;
        out.write_all(text.as_bytes()).map_err(|e| e.to_string())
    }

    /// Every floating-point number of the campaign with its path: the one place
    /// that knows them all, so validation and writing agree on which must be finite.
    fn numbers(&self) -> Vec<(String, f64)> {
        let mut out = vec![
            ("horizon_days".to_string(), self.horizon_days),
            ("margin".to_string(), self.margin),
            ("holdout".to_string(), self.holdout),
        ];
        if let Some(budget) = self.budget {
            out.push(("budget".to_string(), budget));
        }
        for (i, c) in self.channels.iter().enumerate() {
            out.push((format!("channels[{i}].cost_per_message"), c.cost_per_message));
            out.push((format!("channels[{i}].reach"), c.reach));
        }
        for (i, o) in self.offers.iter().enumerate() {
            if let Some(v) = o.value {
                out.push((format!("offers[{i}].value"), v));
            }
            if let Some(v) = o.min_spend {
                out.push((format!("offers[{i}].min_spend"), v));
            }
            for (t, tier) in o.tiers.iter().flatten().enumerate() {
                out.push((format!("offers[{i}].tiers[{t}].min_spend"), tier.min_spend));
                out.push((format!("offers[{i}].tiers[{t}].value"), tier.value));
            }
            if let Some(e) = &o.eligible {
                for (r, rule) in e.rules.iter().enumerate() {
                    out.push((format!("offers[{i}].eligible.rules[{r}].value"), rule.value));
                }
            }
        }
        if let Some(a) = &self.assumptions {
            for (name, assumption) in a.all() {
                out.push((format!("assumptions.{name}.value"), assumption.value));
                out.push((format!("assumptions.{name}.low"), assumption.low));
                out.push((format!("assumptions.{name}.high"), assumption.high));
            }
        }
        out
    }
}

/// How customers get offers (DATA.md §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assignment {
    /// At most one offer per customer, the one with the highest expected
    /// incremental profit if positive, within the budget. "optimize" is read too,
    /// as American users will write it.
    #[default]
    #[serde(alias = "optimize")]
    Optimise,
    /// Every eligible customer gets one of their offers at random (seeded): an A/B/n test.
    Everyone,
}

/// A way of reaching customers, with what a message costs and how many arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub name: String,
    #[serde(default)]
    pub cost_per_message: f64,
    /// The share of messages that arrive; scales the default model's effect only
    /// (a calibrated arm's effect already includes its own delivery).
    #[serde(default = "default_reach")]
    pub reach: f64,
}

impl Channel {
    pub fn new(name: impl Into<String>) -> Self {
        Channel { name: name.into(), cost_per_message: 0.0, reach: default_reach() }
    }
}

/// One offer of the campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub name: String,
    pub kind: OfferKind,
    /// What the kind needs (see [`OfferKind::value_meaning`]); none for a message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The order total that unlocks the offer (spend X save Y).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spend: Option<f64>,
    /// Stepped savings of an `amount_off` (满300减40 / 满500减80), lowest threshold first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<Tier>>,
    /// The name of one of the campaign's channels.
    pub channel: String,
    /// Who may get it; absent: every customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible: Option<Eligibility>,
    /// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]"; see [`Offer::starts_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts: Option<String>,
    /// As `starts`; a date alone means the offer runs to the end of that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends: Option<String>,
    /// How many times one customer may redeem it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limit: Option<u32>,
    /// The calibrated arm that predicts this offer's effect; absent: the default model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// A `bundle`'s products (item ids), as proposed from the shop's baskets
    /// ("often bought together") or chosen by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
}

impl Offer {
    /// A plain offer through `channel`, everything optional left out.
    pub fn new(name: impl Into<String>, kind: OfferKind, channel: impl Into<String>) -> Self {
        Offer {
            name: name.into(),
            kind,
            value: None,
            min_spend: None,
            tiers: None,
            channel: channel.into(),
            eligible: None,
            starts: None,
            ends: None,
            usage_limit: None,
            response: None,
            products: None,
        }
    }

    /// When the offer starts, in milliseconds since 1970 on the same naive
    /// (zone-less) clock as the events' timestamps; None if absent or unreadable.
    pub fn starts_ms(&self) -> Option<i64> {
        self.starts.as_deref().and_then(Moment::parse).map(|m| m.start_ms())
    }

    /// When the offer has ended (exclusive), on the same clock: a date alone
    /// means the midnight after it, so "ends": "2026-02-28" includes the 28th.
    pub fn ends_ms(&self) -> Option<i64> {
        self.ends.as_deref().and_then(Moment::parse).map(|m| m.end_ms())
    }
}

/// The kinds of offer, in Shopify's vocabulary plus 满减.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// No incentive: the message itself is the treatment.
    Message,
    PercentOff,
    AmountOff,
    FreeShipping,
    BuyXGetY,
    Bundle,
    Gift,
    Points,
}

impl OfferKind {
    pub const ALL: [OfferKind; 8] = [
        OfferKind::Message,
        OfferKind::PercentOff,
        OfferKind::AmountOff,
        OfferKind::FreeShipping,
        OfferKind::BuyXGetY,
        OfferKind::Bundle,
        OfferKind::Gift,
        OfferKind::Points,
    ];

    /// The name in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferKind::Message => "message",
            OfferKind::PercentOff => "percent_off",
            OfferKind::AmountOff => "amount_off",
            OfferKind::FreeShipping => "free_shipping",
            OfferKind::BuyXGetY => "buy_x_get_y",
            OfferKind::Bundle => "bundle",
            OfferKind::Gift => "gift",
            OfferKind::Points => "points",
        }
    }

    /// The kind as the editor names it.
    pub fn label(self) -> &'static str {
        match self {
            OfferKind::Message => "Message only",
            OfferKind::PercentOff => "Percent off",
            OfferKind::AmountOff => "Amount off (满减 tiers)",
            OfferKind::FreeShipping => "Free shipping",
            OfferKind::BuyXGetY => "Buy X get Y",
            OfferKind::Bundle => "Bundle",
            OfferKind::Gift => "Gift with purchase",
            OfferKind::Points => "Loyalty points",
        }
    }

    /// Every kind but a message carries an incentive whose size or cost the
    /// response and cost models need, so it must state it. (An `amount_off` may
    /// state it through `tiers` instead.)
    pub fn needs_value(self) -> bool {
        self != OfferKind::Message
    }

    /// What `value` means for this kind, in the words the editor shows.
    pub fn value_meaning(self) -> &'static str {
        match self {
            OfferKind::Message => "none: a message carries no incentive",
            OfferKind::PercentOff => "the percent off, between 0 and 100",
            OfferKind::AmountOff => "the amount saved per order",
            OfferKind::FreeShipping => "the shipping cost the shop pays per redeemed order",
            OfferKind::BuyXGetY => "the cost to the shop of the free items per redeemed order",
            OfferKind::Bundle => "the saving the bundle gives per redeemed order",
            OfferKind::Gift => "the cost to the shop of the gift per redeemed order",
            OfferKind::Points => "the points multiplier (2 = double points)",
        }
    }
}

impl fmt::Display for OfferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a stepped `amount_off`: spend at least `min_spend`, save `value`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub min_spend: f64,
    pub value: f64,
}

/// Who may get an offer: every listed condition must hold (AND).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// Segment names from the segmentation in use; the customer must be in one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// RFM group names; the customer must be in one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rfm_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// A test on one numeric customer feature: `recency_days >= 60`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub feature: String,
    pub op: Comparison,
    pub value: f64,
}

impl Rule {
    /// Whether a customer whose feature is `x` passes; a missing feature (None,
    /// e.g. recency of someone who never bought) passes no test, not even `!=`.
    pub fn holds(&self, x: Option<f64>) -> bool {
        x.is_some_and(|x| self.op.holds(x, self.value))
    }
}

/// The comparisons a rule can make, written as in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "==")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
        }
    }

    /// `x op value`; exact equality, because rules test counts and thresholds the
    /// marketer typed, not computed fractions.
    pub fn holds(self, x: f64, value: f64) -> bool {
        match self {
            Comparison::Below => x < value,
            Comparison::AtMost => x <= value,
            Comparison::Above => x > value,
            Comparison::AtLeast => x >= value,
            Comparison::Equal => x == value,
            Comparison::NotEqual => x != value,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// The default response model's assumptions
// ---------------------------------------------------------------------------

/// One assumed number: its best guess, the range the simulation draws from,
/// and where it comes from, because a forecast is only as credible as the
/// numbers it rests on and the manager must be able to check them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assumption {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub source: String,
}

impl Assumption {
    /// A default with the study it rests on (docs/response-assumptions.md derives each).
    fn cited(value: f64, low: f64, high: f64, source: &str) -> Self {
        Assumption { value, low, high, source: source.to_string() }
    }
}

/// What an offer does when no past campaign says otherwise (DATA.md §8,
/// default model). Lifts are relative: p1 = p0 · (1 + lift). A file may give
/// some of them; the others keep their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Assumptions {
    /// Relative lift in purchase probability from a plain message.
    pub message_lift: Assumption,
    /// Relative lift per 10 points of discount at small depths; the slope of
    /// the diminishing-returns curve below.
    pub discount_lift_per_10pct: Assumption,
    /// The curve's scale s, as a share of price: with depth d (0.1 = 10% off)
    /// and slope k = discount_lift_per_10pct / 0.1, lift = k · s · (1 − exp(−d / s)),
    /// so lift rises about linearly for small discounts and levels off at k · s.
    pub discount_saturation: Assumption,
    /// The share of customers whose usual basket lies within the pull window
    /// below a `min_spend` threshold who raise it to reach the threshold.
    pub threshold_pull: Assumption,
    /// How far below the threshold, as a share of it, a basket can be and still be pulled.
    pub threshold_window: Assumption,
    /// Relative lift from free shipping.
    pub free_shipping_lift: Assumption,
    /// Relative lift per extra multiple of points (double points = one extra multiple).
    pub points_lift_per_multiple: Assumption,
    /// Relative lift from a free gift.
    pub gift_lift: Assumption,
    /// Relative lift from a bundle offer.
    pub bundle_lift: Assumption,
    /// The share of treated buyers who actually redeem the incentive.
    pub redemption_rate: Assumption,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            message_lift: Assumption::cited(
                0.20,
                0.0,
                0.60,
                "Hillstrom MineThatData e-mail test 2008 (+54%/+119% conversion); Gopalakrishnan & Park 2021 Mkt Sci",
            ),
            discount_lift_per_10pct: Assumption::cited(
                0.20,
                0.08,
                0.40,
                "Bijmolt, van Heerde & Pieters 2005 JMR (mean elasticity -2.62) scaled to purchase incidence; judgement",
            ),
            discount_saturation: Assumption::cited(
                0.35,
                0.15,
                0.70,
                "Thornton 2008 AER dose-response (own fit: saturates by ~1 day's wage); Fong, Fang & Luo 2015 JMR",
            ),
            threshold_pull: Assumption::cited(
                0.25,
                0.10,
                0.45,
                "Hemmati, Elmaghraby, Kabra & Jain 2021 SSRN 3794442: 12-28% of below-threshold orders padded",
            ),
            threshold_window: Assumption::cited(
                0.25,
                0.15,
                0.40,
                "Zhou, Jin, Gumus & Animesh 2026 SSRN 6297139 ($80->$100 threshold); Chen & Ngwe 2018 HBS; judgement",
            ),
            free_shipping_lift: Assumption::cited(
                0.15,
                0.05,
                0.35,
                "Lewis, Singh & Fay 2006 Mkt Sci; Shampanier, Mazar & Ariely 2007 Mkt Sci (zero price); judgement",
            ),
            points_lift_per_multiple: Assumption::cited(
                0.03,
                0.0,
                0.08,
                "Nastasoiu et al. 2021 JAMS (1.74% of sales incentive-driven); Kivetz et al. 2006 JMR; judgement",
            ),
            gift_lift: Assumption::cited(
                0.06,
                0.01,
                0.15,
                "Raghubir 2004 JCP (gift value discounting); Shampanier et al. 2007 Mkt Sci; judgement, thin evidence",
            ),
            bundle_lift: Assumption::cited(
                0.06,
                0.01,
                0.15,
                "Estelami 1999 (~8% bundle saving, via Hahnchen & Baumgartner 2020) on the discount curve; judgement",
            ),
            redemption_rate: Assumption::cited(
                0.35,
                0.10,
                0.90,
                "Gopalakrishnan & Park 2021 Mkt Sci (12-22% of buyers redeemed); Sahni et al. 2017 MS; ~1 if auto-applied",
            ),
        }
    }
}

/// What an assumption may be, beyond low ≤ value ≤ high.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AssumptionKind {
    /// A relative lift may be negative (a message can annoy) but not below −1:
    /// a purchase probability cannot fall below zero.
    Lift,
    /// A share of customers or of a threshold: between 0 and 1.
    Share,
    /// A scale that divides: above 0.
    Scale,
}

impl Assumptions {
    /// Every assumption with its name in the file, in the file's order.
    pub fn all(&self) -> [(&'static str, &Assumption); 10] {
        [
            ("message_lift", &self.message_lift),
            ("discount_lift_per_10pct", &self.discount_lift_per_10pct),
            ("discount_saturation", &self.discount_saturation),
            ("threshold_pull", &self.threshold_pull),
            ("threshold_window", &self.threshold_window),
            ("free_shipping_lift", &self.free_shipping_lift),
            ("points_lift_per_multiple", &self.points_lift_per_multiple),
            ("gift_lift", &self.gift_lift),
            ("bundle_lift", &self.bundle_lift),
            ("redemption_rate", &self.redemption_rate),
        ]
    }

    /// The same, to change them (a simulation run's draw, a sensitivity end).
    pub fn all_mut(&mut self) -> [(&'static str, &mut Assumption); 10] {
        [
            ("message_lift", &mut self.message_lift),
            ("discount_lift_per_10pct", &mut self.discount_lift_per_10pct),
            ("discount_saturation", &mut self.discount_saturation),
            ("threshold_pull", &mut self.threshold_pull),
            ("threshold_window", &mut self.threshold_window),
            ("free_shipping_lift", &mut self.free_shipping_lift),
            ("points_lift_per_multiple", &mut self.points_lift_per_multiple),
            ("gift_lift", &mut self.gift_lift),
            ("bundle_lift", &mut self.bundle_lift),
            ("redemption_rate", &mut self.redemption_rate),
        ]
    }

    fn kind_of(name: &str) -> AssumptionKind {
        match name {
            "discount_saturation" => AssumptionKind::Scale,
            "threshold_pull" | "threshold_window" | "redemption_rate" => AssumptionKind::Share,
            _ => AssumptionKind::Lift,
        }
    }
}

// ---------------------------------------------------------------------------
// Offer dates
// ---------------------------------------------------------------------------

/// A wall-clock time as written in `starts`/`ends`, in the shop's own calendar (no zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// False for a date alone, which as an end means the whole day.
    pub has_time: bool,
}

impl Moment {
    /// "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]" (a 'T' for the space is read
    /// too, as ISO 8601 writes it); None for anything else or an impossible
    /// calendar date such as 2025-02-29.
    pub fn parse(text: &str) -> Option<Moment> {
        let b = text.trim().as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(range)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
        };
        if !matches!(b.len(), 10 | 16 | 19) || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (mut hour, mut minute, mut second) = (0, 0, 0);
        if b.len() > 10 {
            if !matches!(b[10], b' ' | b'T') || b[13] != b':' {
                return None;
            }
            hour = digits(11..13)?;
            minute = digits(14..16)?;
            if b.len() == 19 {
                if b[16] != b':' {
                    return None;
                }
                second = digits(17..19)?;
            }
        }
        let year = i32::try_from(year).ok()?;
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Moment { year, month, day, hour, minute, second, has_time: b.len() > 10 })
    }

    /// The moment itself, in ms since 1970-01-01 00:00 on the naive clock.
    pub fn start_ms(&self) -> i64 {
        let days = days_from_civil(i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let seconds = i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        (days * 86_400 + seconds) * 1000
    }

    /// The end of the moment when it closes a period: a date alone lasts the whole day.
    pub fn end_ms(&self) -> i64 {
        if self.has_time { self.start_ms() } else { self.start_ms() + 86_400_000 }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

// ---------------------------------------------------------------------------
// Problems and errors
// ---------------------------------------------------------------------------

/// One thing wrong with a campaign: where (`offers[2].value`) and what.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

/// Why a campaign file cannot be used. Line and column count from 1; the
/// column counts characters, as an editor shows them.
#[derive(Debug, Error)]
pub enum CampaignError {
    /// Not JSON.
    #[error("line {line}, column {column}: not valid JSON: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// JSON, but not a campaign: an unknown field, a wrong type, a missing field.
    #[error("{}", structure_message(path, *line, *column, message))]
    Structure { path: String, line: usize, column: usize, message: String },
    /// Written by a newer program (or not a version at all).
    #[error("{}", version_message(*found, *supported))]
    UnsupportedVersion { found: u64, supported: u32 },
    /// Well-formed, but with impossible values; every one of them, one per line.
    #[error("{}", problem_lines(.0))]
    Invalid(Vec<Problem>),
}

fn structure_message(path: &str, line: usize, column: usize, message: &str) -> String {
    if path.is_empty() {
        format!("line {line}, column {column}: {message}")
    } else {
        format!("{path}: {message} (line {line}, column {column})")
    }
}

fn version_message(found: u64, supported: u32) -> String {
    if found == 0 {
        format!("version: 0 is not a campaign file version; versions start at 1 (this program reads up to {supported})")
    } else {
        format!(
            "version: this campaign file is version {found}, newer than this program reads (up to {supported}); \
             open it with a newer Promo Studio"
        )
    }
}

fn problem_lines(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n")
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Reads a campaign file: syntax, structure and version, not the values (see
/// [`Campaign::validate`]), so that the editor can open an unfinished draft.
pub fn read_campaign(text: &str) -> Result<Campaign, CampaignError> {
    // JSON first, on its own: a syntax error anywhere is reported as such, and
    // the version can be read before the fields, whose names a newer version
    // may have changed.
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let (line, column) = char_position(text, e.line(), e.column());
        CampaignError::Syntax { line, column, message: strip_position(&e) }
    })?;
    let Some(object) = value.as_object() else {
        let (line, column) = first_value_position(text);
        return Err(CampaignError::Structure {
            path: String::new(),
            line,
            column,
            message: format!("a campaign file holds one JSON object ({{ … }}), not {}", describe_json(&value)),
        });
    };
    if let Some(found) = object.get("version").and_then(Value::as_u64)
        && (found == 0 || found > u64::from(CAMPAIGN_FILE_VERSION))
    {
        return Err(CampaignError::UnsupportedVersion { found, supported: CAMPAIGN_FILE_VERSION });
    }
    if let Some((path, message)) = wrong_shape(object) {
        let (line, column) = locate(text, &path).unwrap_or((1, 1));
        return Err(CampaignError::Structure { path, line, column, message });
    }
    serde_json::from_str(text).map_err(|e| structure_error(text, &e))
}

/// Reads and checks a campaign for the commands that run it.
pub fn load_campaign(text: &str, known: &Known) -> Result<Campaign, CampaignError> {
    let campaign = read_campaign(text)?;
    campaign.check(known)?;
    Ok(campaign)
}

/// Shapes serde's derive accepts but a campaign file must not have, found on
/// the parsed JSON: serde reads a struct from a list of its fields in order
/// (`["email", 0.003, 0.95]` for a channel), and a name (kind, op, assignment)
/// from `{"percent_off": …}`. Nobody writes either on purpose and the editor
/// never does, so they are wrong types; serde's own messages for them would
/// confuse. Returns the path of the first one and what is wrong.
fn wrong_shape(root: &serde_json::Map<String, Value>) -> Option<(String, String)> {
    fn items(v: Option<&Value>) -> Vec<(usize, &Value)> {
        v.and_then(Value::as_array).map(|a| a.iter().enumerate().collect()).unwrap_or_default()
    }
    let object = |v: &Value, path: String| -> Option<(String, String)> {
        v.is_array().then(|| (path, "invalid type: a list ([ … ]), expected an object ({ … })".to_string()))
    };
    let name = |v: Option<&Value>, path: String, names: &[&str]| -> Option<(String, String)> {
        let v = v.filter(|v| !v.is_string())?;
        Some((
            path,
            format!("invalid type: {}, expected a name in quotes, one of {}", describe_json(v), names.join(", ")),
        ))
    };
    let kinds = OfferKind::ALL.map(OfferKind::as_str);
    let comparisons = ["<", "<=", ">", ">=", "==", "!="];
    if let Some(found) = name(root.get("assignment"), "assignment".into(), &["optimise", "everyone"]) {
        return Some(found);
    }
    for (i, channel) in items(root.get("channels")) {
        if let Some(found) = object(channel, format!("channels[{i}]")) {
            return Some(found);
        }
    }
    for (i, offer) in items(root.get("offers")) {
        if let Some(found) = object(offer, format!("offers[{i}]")) {
            return Some(found);
        }
        if let Some(found) = name(offer.get("kind"), format!("offers[{i}].kind"), &kinds) {
            return Some(found);
        }
        for (t, tier) in items(offer.get("tiers")) {
            if let Some(found) = object(tier, format!("offers[{i}].tiers[{t}]")) {
                return Some(found);
            }
        }
        let Some(eligible) = offer.get("eligible") else { continue };
        if let Some(found) = object(eligible, format!("offers[{i}].eligible")) {
            return Some(found);
        }
        for (r, rule) in items(eligible.get("rules")) {
            let at = format!("offers[{i}].eligible.rules[{r}]");
            if let Some(found) =
                object(rule, at.clone()).or_else(|| name(rule.get("op"), format!("{at}.op"), &comparisons))
            {
                return Some(found);
            }
        }
    }
    let assumptions = root.get("assumptions")?;
    if let Some(found) = object(assumptions, "assumptions".into()) {
        return Some(found);
    }
    for (key, assumption) in assumptions.as_object().into_iter().flatten() {
        if let Some(found) = object(assumption, format!("assumptions.{key}")) {
            return Some(found);
        }
    }
    None
}

fn describe_json(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list ([ … ])",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without its " at line L column C", which we report in our own words.
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).map(str::to_string).unwrap_or(text)
}

/// A structure error with the path of the field serde was reading: the text up
/// to the error's position is replayed to see which objects and lists were open.
fn structure_error(text: &str, e: &serde_json::Error) -> CampaignError {
    let stop = byte_offset(text, e.line(), e.column());
    let mut replay = Replay::run(text, stop, |_, _| {});
    let raw = strip_position(e);
    let (line, column) = char_position(text, e.line(), e.column());
    if let Some(field) = backticked(&raw).first().filter(|_| raw.starts_with("missing field ")) {
        // serde notices a missing field at the object's closing brace, after the
        // last key; the path is the object's, plus the field that is missing.
        if replay.last_token != Some(b'}')
            && let Some(Open::Object { key, .. }) = replay.open.last_mut()
        {
            *key = None;
        }
        let path = join_path(&render(&replay.open), field);
        return CampaignError::Structure { path, line, column, message: "missing: this field is required".to_string() };
    }
    if let Some(variant) = backticked(&raw).first().filter(|_| raw.starts_with("unknown variant "))
        && let Some(Open::Object { key: Some(key), .. }) = replay.open.last()
        && key == variant
        && replay.open.len() > 1
    {
        // An enum written as {"name": …}: the name is the bad value, not a field.
        replay.open.pop();
    }
    CampaignError::Structure { path: render(&replay.open), line, column, message: explain(&raw) }
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() { field.to_string() } else { format!("{path}.{field}") }
}

/// The names serde quotes in backticks: "unknown field `x`, expected one of `a`, `b`".
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// serde's messages in the marketer's words, with the nearest name for a typo.
fn explain(message: &str) -> String {
    let names = backticked(message);
    let unknown = if message.starts_with("unknown field ") {
        Some("field")
    } else if message.starts_with("unknown variant ") {
        Some("value")
    } else {
        None
    };
    if let (Some(what), Some((bad, expected))) = (unknown, names.split_first()) {
        let mut out = format!("unknown {what} \"{bad}\"");
        if let Some(near) = nearest(bad, expected) {
            let _ = write!(out, " (did you mean \"{near}\"?)");
        }
        if expected.is_empty() {
            out.push_str("; nothing is allowed here");
        } else if what == "field" {
            let _ = write!(out, "; the fields here are {}", expected.join(", "));
        } else {
            let _ = write!(out, "; it must be one of {}", expected.join(", "));
        }
        return out;
    }
    if message.starts_with("duplicate field ") {
        return "this field is given twice; keep one".to_string();
    }
    // An enum (kind, op, assignment) given a list or number: serde_json says
    // only "expected value". (wrong_shape catches the cases we know of first.)
    if message == "expected value" {
        return "invalid type: expected a name in quotes".to_string();
    }
    let mut out = message.to_string();
    for (theirs, ours) in [
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list ([ … ])"),
        ("invalid type: map,", "invalid type: an object,"),
        ("invalid type: sequence,", "invalid type: a list,"),
        ("invalid type: unit value,", "invalid type: null,"),
    ] {
        out = out.replace(theirs, ours);
    }
    if let Some(at) = out.find("expected struct ") {
        out.truncate(at);
        out.push_str("expected an object ({ … })");
    }
    out
}

// ---------------------------------------------------------------------------
// Positions in the text
// ---------------------------------------------------------------------------

/// A container still open while replaying the JSON text.
#[derive(Clone, Debug)]
enum Open {
    /// `key`: the key being read or whose value is being read.
    Object { key: Option<String>, expecting_key: bool },
    /// `has_item`: an element has started, so `index` names one.
    Array { index: usize, has_item: bool },
}

/// The JSON tokens of a text replayed up to a byte offset, to learn the path
/// at that point. The text before the offset is valid JSON (serde read it).
struct Replay {
    open: Vec<Open>,
    /// The first byte of the last token replayed.
    last_token: Option<u8>,
}

impl Replay {
    /// Replays tokens starting before `stop`, calling `on_value(open, offset)`
    /// at every value's first byte, with the containers open around it.
    fn run(text: &str, stop: usize, mut on_value: impl FnMut(&[Open], usize)) -> Replay {
        let b = text.as_bytes();
        let mut replay = Replay { open: Vec::new(), last_token: None };
        let mut i = 0;
        while i < stop.min(b.len()) {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            replay.last_token = Some(c);
            match c {
                b'}' | b']' => {
                    replay.open.pop();
                    i += 1;
                }
                b',' => {
                    match replay.open.last_mut() {
                        Some(Open::Array { index, .. }) => *index += 1,
                        Some(Open::Object { key, expecting_key }) => {
                            *key = None;
                            *expecting_key = true;
                        }
                        None => {}
                    }
                    i += 1;
                }
                b':' => i += 1,
                b'"' => {
                    let end = string_end(b, i);
                    if let Some(Open::Object { key, expecting_key: expecting @ true }) = replay.open.last_mut() {
                        let raw = &text[i..end];
                        *key = Some(serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string()));
                        *expecting = false;
                    } else {
                        replay.value_starts(i, &mut on_value);
                    }
                    i = end;
                }
                b'{' | b'[' => {
                    replay.value_starts(i, &mut on_value);
                    replay.open.push(if c == b'{' {
                        Open::Object { key: None, expecting_key: true }
                    } else {
                        Open::Array { index: 0, has_item: false }
                    });
                    i += 1;
                }
                _ => {
                    // A number, true, false or null: runs to the next delimiter.
                    replay.value_starts(i, &mut on_value);
                    while i < b.len()
                        && !matches!(b[i], b',' | b']' | b'}' | b':' | b'"' | b'{' | b'[')
                        && !b[i].is_ascii_whitespace()
                    {
                        i += 1;
                    }
                }
            }
        }
        replay
    }

    fn value_starts(&mut self, at: usize, on_value: &mut impl FnMut(&[Open], usize)) {
        if let Some(Open::Array { has_item, .. }) = self.open.last_mut() {
            *has_item = true;
        }
        on_value(&self.open, at);
    }
}

/// The byte after a string's closing quote (or the text's end), from its opening quote.
fn string_end(b: &[u8], open_quote: usize) -> usize {
    let mut j = open_quote + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// `offers[2].eligible.rules[0]` from the open containers.
fn render(open: &[Open]) -> String {
    let mut path = String::new();
    for container in open {
        match container {
            Open::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Open::Array { index, has_item: true } => {
                let _ = write!(path, "[{index}]");
            }
            _ => {}
        }
    }
    path
}

/// Line and column (characters, from 1) of the first value at `path`.
fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let mut found = None;
    Replay::run(text, text.len(), |open, at| {
        if found.is_none() && render(open) == path {
            found = Some(at);
        }
    });
    found.map(|at| position_of(text, at))
}

fn first_value_position(text: &str) -> (usize, usize) {
    let at = text.find(|c: char| !c.is_whitespace()).unwrap_or(0);
    position_of(text, at)
}

/// Line and character column (from 1) of the character at byte `at`.
fn position_of(text: &str, at: usize) -> (usize, usize) {
    let at = floor_boundary(text, at.min(text.len()));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (line, text[line_start..at].chars().count() + 1)
}

/// serde_json counts columns in bytes, the column of the last byte it read;
/// the byte just after it, where the replay stops.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    (line_start(text, line) + column).min(text.len())
}

fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n').nth(line - 2).map_or(text.len(), |(n, _)| n + 1)
}

/// serde_json's (line, byte column) as (line, character column), so that a
/// line with 满300减40 on it points where an editor does. Column 0 (serde_json's
/// "before the first character", at the end of the input) stays 0.
fn char_position(text: &str, line: usize, column: usize) -> (usize, usize) {
    if column == 0 {
        return (line, 0);
    }
    let start = line_start(text, line);
    let at = floor_boundary(text, (start + column - 1).min(text.len()));
    (line, text[start.min(at)..at].chars().count() + 1)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/// What the campaign's names are checked against. None: not known yet (no
/// segmentation chosen, no response file given), so not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Numeric features a rule may test: the customer table's own columns
    /// (`CustomerTable::known` in `plan`).
    pub features: Vec<String>,
    pub segments: Option<Vec<String>>,
    pub rfm_groups: Vec<String>,
    /// Arm names of the calibrated response file.
    pub arms: Option<Vec<String>>,
}

impl Campaign {
    /// Every problem of the campaign, in the file's order; empty when it can run.
    pub fn validate(&self, known: &Known) -> Vec<Problem> {
        let mut check = Checker::default();
        for (path, x) in self.numbers() {
            if !x.is_finite() {
                check.add(path, format!("must be a finite number, got {x}"));
            }
        }
        if self.version == 0 || self.version > CAMPAIGN_FILE_VERSION {
            check.add("version", format!("must be between 1 and {CAMPAIGN_FILE_VERSION}, got {}", self.version));
        }
        if self.name.trim().is_empty() {
            check.add("name", "the campaign needs a name");
        }
        check.number("horizon_days", self.horizon_days, |x| x > 0.0, "must be above 0 days");
        check.number(
            "margin",
            self.margin,
            |x| x > 0.0 && x <= 1.0,
            "must be above 0 and at most 1 (a share of revenue)",
        );
        if let Some(budget) = self.budget {
            check.number("budget", budget, |x| x >= 0.0, "must be ≥ 0");
        }
        check.number("holdout", self.holdout, |x| (0.0..1.0).contains(&x), "must be between 0 and 1 (exclusive of 1)");

        if self.channels.is_empty() {
            check.add("channels", "the campaign has no channels");
        }
        let channel_names: Vec<String> = self.channels.iter().map(|c| c.name.clone()).collect();
        check.unique_names("channels", "channel", &channel_names);
        for (i, channel) in self.channels.iter().enumerate() {
            let at = format!("channels[{i}]");
            check.number(&format!("{at}.cost_per_message"), channel.cost_per_message, |x| x >= 0.0, "must be ≥ 0");
            check.number(
                &format!("{at}.reach"),
                channel.reach,
                |x| x > 0.0 && x <= 1.0,
                "must be above 0 and at most 1 (the share of messages that arrive)",
            );
        }

        if self.offers.is_empty() {
            check.add("offers", "the campaign has no offers");
        }
        let offer_names: Vec<String> = self.offers.iter().map(|o| o.name.clone()).collect();
        check.unique_names("offers", "offer", &offer_names);
        let channels = NameList { noun: "channel", listed_as: "channels are", none: "the campaign has no channels" };
        for (i, offer) in self.offers.iter().enumerate() {
            let at = format!("offers[{i}]");
            check.offer_incentive(&at, offer);
            check.known_name(&format!("{at}.channel"), &offer.channel, &channel_names, &channels);
            if let Some(eligible) = &offer.eligible {
                check.eligibility(&format!("{at}.eligible"), eligible, known);
            }
            check.offer_dates(&at, offer);
            if offer.usage_limit == Some(0) {
                check.add(format!("{at}.usage_limit"), "must be at least 1 (uses per customer), got 0");
            }
            if let (Some(arm), Some(arms)) = (&offer.response, &known.arms) {
                let list = NameList {
                    noun: "calibrated arm",
                    listed_as: "the response file has",
                    none: "the response file has no arms",
                };
                check.known_name(&format!("{at}.response"), arm, arms, &list);
            }
        }

        if let Some(assumptions) = &self.assumptions {
            for (name, assumption) in assumptions.all() {
                check.assumption(&format!("assumptions.{name}"), Assumptions::kind_of(name), assumption);
            }
        }
        check.problems
    }

    /// [`Campaign::validate`] as a `Result`, for `?`.
    pub fn check(&self, known: &Known) -> Result<(), CampaignError> {
        let problems = self.validate(known);
        if problems.is_empty() { Ok(()) } else { Err(CampaignError::Invalid(problems)) }
    }
}

/// How a list of names is spoken of in a message.
struct NameList {
    noun: &'static str,
    listed_as: &'static str,
    none: &'static str,
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    /// A number that must satisfy `ok`. Non-finite numbers are reported once,
    /// by the pass over [`Campaign::numbers`], so they are skipped here.
    fn number(&mut self, path: &str, x: f64, ok: impl Fn(f64) -> bool, rule: &str) {
        if x.is_finite() && !ok(x) {
            self.add(path, format!("{rule}, got {x}"));
        }
    }

    /// Names must be there and unique, because offers and channels are referred to by name.
    fn unique_names(&mut self, list: &str, noun: &str, names: &[String]) {
        for (i, name) in names.iter().enumerate() {
            if name.trim().is_empty() {
                self.add(format!("{list}[{i}].name"), format!("the {noun} needs a name"));
            } else if let Some(first) = names[..i].iter().position(|n| n == name) {
                self.add(format!("{list}[{i}].name"), format!("\"{name}\" is already the name of {list}[{first}]"));
            }
        }
    }

    /// `name` must be one of `names`; the message offers the nearest one and the list.
    fn known_name(&mut self, path: &str, name: &str, names: &[String], list: &NameList) {
        if names.iter().any(|n| n == name) {
            return;
        }
        let mut message = format!("no {} \"{name}\"", list.noun);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        if let Some(near) = nearest(name, &names) {
            let _ = write!(message, " (did you mean \"{near}\"?)");
        }
        if names.is_empty() {
            let _ = write!(message, "; {}", list.none);
        } else {
            let _ = write!(message, "; {} {}", list.listed_as, name_list(&names));
        }
        self.add(path, message);
    }

    /// The offer's value, min_spend and tiers against its kind.
    fn offer_incentive(&mut self, at: &str, offer: &Offer) {
        let kind = offer.kind;
        let value_path = format!("{at}.value");
        let tiered = offer.tiers.is_some();
        match (kind, offer.value) {
            (OfferKind::Message, Some(_)) => {
                self.add(value_path, "a message carries no incentive, so it takes no value; remove it")
            }
            (OfferKind::Message, None) => {}
            (OfferKind::AmountOff, None) if tiered => {}
            (OfferKind::AmountOff, Some(_)) if tiered => self.add(
                format!("{at}.tiers"),
                "an amount_off takes either a value (one saving) or tiers (stepped savings), not both",
            ),
            (OfferKind::AmountOff, None) => {
                self.add(value_path, "amount_off needs a value (the amount saved per order) or tiers")
            }
            (OfferKind::PercentOff, v) => match v {
                Some(v) if !v.is_finite() => {}
                Some(v) if v > 0.0 && v <= 100.0 => {}
                Some(v) => self.add(value_path, format!("percent_off needs a value between 0 and 100, got {v}")),
                None => self.add(value_path, "percent_off needs a value between 0 and 100 (the percent off)"),
            },
            (kind, None) => self.add(value_path, format!("{kind} needs a value: {}", kind.value_meaning())),
            (kind, Some(v)) => {
                // Amounts saved and multipliers must be above 0 to be an incentive;
                // a cost to the shop may be 0 (a gift the supplier pays for).
                let (ok, rule) = match kind {
                    OfferKind::AmountOff | OfferKind::Points => (v > 0.0, "must be above 0"),
                    _ => (v >= 0.0, "must be ≥ 0"),
                };
                if v.is_finite() && !ok {
                    self.add(value_path, format!("{rule} ({}), got {v}", kind.value_meaning()));
                }
            }
        }
        if let Some(min_spend) = offer.min_spend {
            let path = format!("{at}.min_spend");
            if tiered {
                self.add(path, "an offer with tiers takes its thresholds from the tiers; remove min_spend");
            } else {
                self.number(&path, min_spend, |x| x > 0.0, "must be above 0");
            }
        }
        let Some(tiers) = &offer.tiers else { return };
        let tiers_path = format!("{at}.tiers");
        if kind != OfferKind::AmountOff {
            self.add(tiers_path, format!("only amount_off offers have tiers, this one is {kind}"));
            return;
        }
        if tiers.is_empty() {
            self.add(tiers_path, "no tiers; give at least one, or remove tiers and give a value");
            return;
        }
        for (t, tier) in tiers.iter().enumerate() {
            let here = format!("{tiers_path}[{t}]");
            self.number(&format!("{here}.min_spend"), tier.min_spend, |x| x > 0.0, "must be above 0");
            self.number(&format!("{here}.value"), tier.value, |x| x > 0.0, "must be above 0 (the amount saved)");
            let Some(previous) = t.checked_sub(1).map(|p| tiers[p]) else { continue };
            // A higher step that does not ask more, or does not give more, would
            // never be the one that applies: almost surely a typo.
            if tier.min_spend.is_finite() && previous.min_spend.is_finite() && tier.min_spend <= previous.min_spend {
                self.add(
                    format!("{here}.min_spend"),
                    format!("tiers must rise: {} is not above {}", tier.min_spend, previous.min_spend),
                );
            }
            if tier.value.is_finite() && previous.value.is_finite() && tier.value <= previous.value {
                self.add(
                    format!("{here}.value"),
                    format!("a higher tier must save more: {} is not above {}", tier.value, previous.value),
                );
            }
        }
    }

    fn offer_dates(&mut self, at: &str, offer: &Offer) {
        let mut parse = |field: &str, text: &Option<String>| -> Option<Moment> {
            let text = text.as_deref()?;
            let moment = Moment::parse(text);
            if moment.is_none() {
                self.add(
                    format!("{at}.{field}"),
                    format!("\"{text}\" is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]"),
                );
            }
            moment
        };
        let starts = parse("starts", &offer.starts);
        let ends = parse("ends", &offer.ends);
        if let (Some(starts), Some(ends)) = (starts, ends)
            && ends.end_ms() <= starts.start_ms()
        {
            let (starts_text, ends_text) =
                (offer.starts.as_deref().unwrap_or_default().trim(), offer.ends.as_deref().unwrap_or_default().trim());
            let relation = if ends.start_ms() < starts.start_ms() { "is before" } else { "is not after" };
            self.add(format!("{at}.ends"), format!("{ends_text} {relation} starts {starts_text}"));
        }
    }

    fn eligibility(&mut self, at: &str, eligible: &Eligibility, known: &Known) {
        if let Some(segments) = &known.segments {
            let list =
                NameList { noun: "segment", listed_as: "segments are", none: "the segmentation has no segments" };
            for (s, segment) in eligible.segments.iter().enumerate() {
                self.known_name(&format!("{at}.segments[{s}]"), segment, segments, &list);
            }
        }
        let groups = NameList { noun: "RFM group", listed_as: "RFM groups are", none: "no RFM groups are known" };
        for (g, group) in eligible.rfm_groups.iter().enumerate() {
            self.known_name(&format!("{at}.rfm_groups[{g}]"), group, &known.rfm_groups, &groups);
        }
        let features = NameList { noun: "feature", listed_as: "features are", none: "no features are known" };
        for (r, rule) in eligible.rules.iter().enumerate() {
            self.known_name(&format!("{at}.rules[{r}].feature"), &rule.feature, &known.features, &features);
        }
    }

    fn assumption(&mut self, at: &str, kind: AssumptionKind, a: &Assumption) {
        let Assumption { value, low, high, source } = a;
        if source.trim().is_empty() {
            self.add(format!("{at}.source"), "say where the number comes from (a study, a past campaign, a guess)");
        }
        if ![value, low, high].iter().all(|x| x.is_finite()) {
            return;
        }
        let rule = match kind {
            AssumptionKind::Lift => "must be ≥ −1 (a relative lift)",
            AssumptionKind::Share => "must be between 0 and 1 (a share)",
            AssumptionKind::Scale => "must be above 0 (a scale)",
        };
        let allowed = |x: f64| match kind {
            AssumptionKind::Lift => x >= -1.0,
            AssumptionKind::Share => (0.0..=1.0).contains(&x),
            AssumptionKind::Scale => x > 0.0,
        };
        for (field, x) in [("value", *value), ("low", *low), ("high", *high)] {
            self.number(&format!("{at}.{field}"), x, allowed, rule);
        }
        if low > high {
            self.add(format!("{at}.low"), format!("low {low} is above high {high}"));
        } else if value < low || value > high {
            self.add(format!("{at}.value"), format!("must be between low {low} and high {high}, got {value}"));
        }
    }
}

/// Names for a message: all of them when few, else the first twenty and a count,
/// because a customer table can have hundreds of columns.
fn name_list(names: &[&str]) -> String {
    const SHOWN: usize = 20;
    let mut out = names.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        let _ = write!(out, ", … ({} more)", names.len() - SHOWN);
    }
    out
}

/// The name `wrong` was probably meant to be, if any is close. A name is
/// compared whole and, for a typo near the start of a long name ("recencyy"
/// for recency_days), by its beginning as long as `wrong` (one edit more).
/// Case is ignored.
fn nearest<'a>(wrong: &str, names: &[&'a str]) -> Option<&'a str> {
    let wrong = wrong.to_lowercase();
    let length = wrong.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for &name in names {
        let lower = name.to_lowercase();
        let mut score = edit_distance(&wrong, &lower);
        if length >= 3 {
            let beginning: String = lower.chars().take(length).collect();
            score = score.min(edit_distance(&wrong, &beginning) + 1);
        }
        if score <= (length / 3).max(1) && best.is_none_or(|(s, _)| score < s) {
            best = Some((score, name));
        }
    }
    best.map(|(_, name)| name)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numeric customer features of DATA.md §2.
    const CUSTOMER_FEATURES: [&str; 10] = [
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
    ];

    /// What an events file's customer table offers a rule: §2's features and the value columns.
    fn standard_features() -> Vec<String> {
        CUSTOMER_FEATURES.iter().chain(VALUE_FEATURES.iter()).map(|s| s.to_string()).collect()
    }
    use serde_json::json;

    #[test]
    fn a_new_offer_has_a_name_of_its_own_and_a_channel() {
        let mut c = Campaign::new("t");
        assert_eq!(c.add_offer(), 0);
        assert_eq!(c.add_offer(), 1);
        assert_eq!((c.offers[0].name.as_str(), c.offers[1].name.as_str()), ("New offer", "New offer 2"));
        assert_eq!(c.channels.len(), 1, "an e-mail channel is added once");
        assert!(c.validate(&Known::default()).is_empty(), "{:?}", c.validate(&Known::default()));
    }

    #[test]
    fn arms_are_used_by_the_offers_of_their_name() {
        let mut c = Campaign::new("t");
        c.add_offer();
        c.offers[0].name = "10% OFF".into();
        c.add_offer();
        let arms = vec!["control".to_string(), "10% off".to_string()];
        assert_eq!(c.use_arms(&arms), vec!["10% OFF".to_string()]);
        assert_eq!(c.offers[0].response.as_deref(), Some("10% off"));
        assert_eq!(c.offers[1].response, None);
    }

    /// DATA.md §7's example, verbatim.
    const EXAMPLE: &str = r#"{
  "name": "Win back lapsing buyers",
  "horizon_days": 30,
  "margin": 0.4,
  "budget": 2500.0,
  "holdout": 0.1,
  "assignment": "optimise",
  "seed": 42,
  "channels": [{"name": "email", "cost_per_message": 0.003, "reach": 0.95}],
  "offers": [
    {"name": "10% off", "kind": "percent_off", "value": 10, "channel": "email",
     "eligible": {"segments": ["At risk", "Hibernating"],
                  "rules": [{"feature": "recency_days", "op": ">=", "value": 60}]}},
    {"name": "Spend 50 save 8", "kind": "amount_off", "value": 8, "min_spend": 50,
     "channel": "email"},
    {"name": "Spring e-mail", "kind": "message", "channel": "email", "response": "e-mail only"}
  ]
}"#;

    fn known() -> Known {
        Known {
            features: standard_features(),
            segments: Some(
                ["Champions", "Loyal regulars", "At risk", "Hibernating", "No purchase yet"].map(String::from).to_vec(),
            ),
            rfm_groups: crate::core::segment::rfm::RFM_GROUPS.map(String::from).to_vec(),
            arms: None,
        }
    }

    /// Sets (or, with `None`, removes) the value at a JSON pointer, creating the last key.
    fn set(doc: &mut Value, pointer: &str, new: Option<Value>) {
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        let parent = doc.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
        match (parent, new) {
            (Value::Object(map), Some(v)) => {
                map.insert(last.to_string(), v);
            }
            (Value::Object(map), None) => {
                map.remove(last);
            }
            (Value::Array(items), Some(v)) => {
                let i: usize = last.parse().unwrap();
                if i == items.len() { items.push(v) } else { items[i] = v }
            }
            (Value::Array(items), None) => {
                items.remove(last.parse::<usize>().unwrap());
            }
            _ => panic!("{pointer}: parent is not a container"),
        }
    }

    fn example_with(edits: &[(&str, Option<Value>)]) -> String {
        let mut doc: Value = serde_json::from_str(EXAMPLE).unwrap();
        for (pointer, new) in edits {
            set(&mut doc, pointer, new.clone());
        }
        serde_json::to_string_pretty(&doc).unwrap()
    }

    fn problems_with(edits: &[(&str, Option<Value>)], known: &Known) -> Vec<Problem> {
        let text = example_with(edits);
        read_campaign(&text).unwrap_or_else(|e| panic!("{e}\n{text}")).validate(known)
    }

    fn structure(text: &str) -> (String, usize, usize, String) {
        match read_campaign(text) {
            Err(CampaignError::Structure { path, line, column, message }) => (path, line, column, message),
            other => panic!("expected a structure error, got {other:?}\n{text}"),
        }
    }

    /// Line and column (from 1, characters) of the first occurrence of `needle`'s last character.
    fn position_of_end(text: &str, needle: &str) -> (usize, usize) {
        let at = text.find(needle).unwrap() + needle.len() - 1;
        position_of(text, at)
    }

    #[test]
    fn the_data_md_example_reads_exactly() {
        let c = read_campaign(EXAMPLE).unwrap();
        let mut expected = Campaign::new("Win back lapsing buyers");
        expected.margin = 0.4;
        expected.budget = Some(2500.0);
        expected.holdout = 0.1;
        expected.channels = vec![Channel { name: "email".into(), cost_per_message: 0.003, reach: 0.95 }];
        let mut ten = Offer::new("10% off", OfferKind::PercentOff, "email");
        ten.value = Some(10.0);
        ten.eligible = Some(Eligibility {
            segments: vec!["At risk".into(), "Hibernating".into()],
            rfm_groups: vec![],
            rules: vec![Rule { feature: "recency_days".into(), op: Comparison::AtLeast, value: 60.0 }],
        });
        let mut spend = Offer::new("Spend 50 save 8", OfferKind::AmountOff, "email");
        spend.value = Some(8.0);
        spend.min_spend = Some(50.0);
        let mut spring = Offer::new("Spring e-mail", OfferKind::Message, "email");
        spring.response = Some("e-mail only".into());
        expected.offers = vec![ten, spend, spring];
        assert_eq!(c, expected);
        assert_eq!(c.version, 1);
        assert_eq!(c.horizon_days, 30.0);
        assert_eq!(c.seed, 42);
        assert_eq!(c.assignment, Assignment::Optimise);
        assert_eq!(c.validate(&known()), vec![]);
        assert!(load_campaign(EXAMPLE, &known()).is_ok());
    }

    #[test]
    fn defaults_apply() {
        let text = r#"{"name": "n", "channels": [{"name": "sms"}],
            "offers": [{"name": "o", "kind": "message", "channel": "sms"}]}"#;
        let c = read_campaign(text).unwrap();
        assert_eq!(c.version, 1);
        assert_eq!(c.horizon_days, 30.0);
        assert_eq!(c.margin, 1.0);
        assert_eq!(c.budget, None);
        assert_eq!(c.holdout, 0.0);
        assert_eq!(c.assignment, Assignment::Optimise);
        assert_eq!(c.seed, 42);
        assert_eq!(c.channels[0], Channel { name: "sms".into(), cost_per_message: 0.0, reach: 1.0 });
        assert_eq!(c.offers[0], Offer::new("o", OfferKind::Message, "sms"));
        assert_eq!(c.assumptions, None);
        assert_eq!(c.assumptions_or_default(), Assumptions::default());
        assert_eq!(c.validate(&known()), vec![]);
    }

    #[test]
    fn every_kind_and_comparison_has_its_file_name() {
        for kind in OfferKind::ALL {
            let read: OfferKind = serde_json::from_value(json!(kind.as_str())).unwrap();
            assert_eq!(read, kind);
        }
        for (name, op) in [
            ("<", Comparison::Below),
            ("<=", Comparison::AtMost),
            (">", Comparison::Above),
            (">=", Comparison::AtLeast),
            ("==", Comparison::Equal),
            ("!=", Comparison::NotEqual),
        ] {
            assert_eq!(serde_json::from_value::<Comparison>(json!(name)).unwrap(), op);
            assert_eq!(op.as_str(), name);
        }
        let read: Assignment = serde_json::from_value(json!("optimize")).unwrap();
        assert_eq!(read, Assignment::Optimise);
        assert_eq!(serde_json::to_value(Assignment::Optimise).unwrap(), json!("optimise"));
        assert_eq!(serde_json::from_value::<Assignment>(json!("everyone")).unwrap(), Assignment::Everyone);
    }

    #[test]
    fn rules_compare() {
        let rule = Rule { feature: "recency_days".into(), op: Comparison::AtLeast, value: 60.0 };
        assert!(rule.holds(Some(60.0)));
        assert!(!rule.holds(Some(59.9)));
        assert!(!rule.holds(None));
        assert!(Comparison::NotEqual.holds(1.0, 2.0));
        assert!(!Comparison::Below.holds(2.0, 2.0));
        assert!(Comparison::AtMost.holds(2.0, 2.0));
        assert!(Comparison::Above.holds(3.0, 2.0));
        assert!(Comparison::Equal.holds(2.0, 2.0));
    }

    #[test]
    fn each_impossible_value_names_its_path() {
        let cases: Vec<(&str, Option<Value>, &str, &str)> = vec![
            ("/name", Some(json!("  ")), "name", "the campaign needs a name"),
            ("/horizon_days", Some(json!(0)), "horizon_days", "must be above 0 days, got 0"),
            ("/horizon_days", Some(json!(-3)), "horizon_days", "got -3"),
            ("/margin", Some(json!(0)), "margin", "must be above 0 and at most 1"),
            ("/margin", Some(json!(1.5)), "margin", "got 1.5"),
            ("/budget", Some(json!(-5)), "budget", "must be ≥ 0, got -5"),
            ("/holdout", Some(json!(1.5)), "holdout", "must be between 0 and 1 (exclusive of 1), got 1.5"),
            ("/holdout", Some(json!(1)), "holdout", "got 1"),
            ("/holdout", Some(json!(-0.1)), "holdout", "got -0.1"),
            ("/channels", Some(json!([])), "channels", "the campaign has no channels"),
            ("/channels/0/name", Some(json!("")), "channels[0].name", "the channel needs a name"),
            ("/channels/1", Some(json!({"name": "email"})), "channels[1].name", "already the name of channels[0]"),
            ("/channels/0/cost_per_message", Some(json!(-0.1)), "channels[0].cost_per_message", "must be ≥ 0"),
            ("/channels/0/reach", Some(json!(0)), "channels[0].reach", "must be above 0 and at most 1"),
            ("/channels/0/reach", Some(json!(1.2)), "channels[0].reach", "got 1.2"),
            ("/offers", Some(json!([])), "offers", "the campaign has no offers"),
            ("/offers/0/name", Some(json!("")), "offers[0].name", "the offer needs a name"),
            (
                "/offers/1/name",
                Some(json!("10% off")),
                "offers[1].name",
                "\"10% off\" is already the name of offers[0]",
            ),
            ("/offers/1/channel", Some(json!("sms")), "offers[1].channel", "no channel \"sms\"; channels are email"),
            ("/offers/1/channel", Some(json!("Email")), "offers[1].channel", "(did you mean \"email\"?)"),
            (
                "/offers/0/value",
                Some(json!(120)),
                "offers[0].value",
                "percent_off needs a value between 0 and 100, got 120",
            ),
            ("/offers/0/value", Some(json!(0)), "offers[0].value", "got 0"),
            ("/offers/0/value", None, "offers[0].value", "percent_off needs a value"),
            ("/offers/1/value", None, "offers[1].value", "amount_off needs a value"),
            ("/offers/1/value", Some(json!(-8)), "offers[1].value", "must be above 0"),
            ("/offers/1/min_spend", Some(json!(0)), "offers[1].min_spend", "must be above 0, got 0"),
            ("/offers/1/min_spend", Some(json!(-3)), "offers[1].min_spend", "got -3"),
            ("/offers/1/tiers", Some(json!([{"min_spend": 300, "value": 40}])), "offers[1].tiers", "not both"),
            ("/offers/0/tiers", Some(json!([{"min_spend": 300, "value": 40}])), "offers[0].tiers", "only amount_off"),
            ("/offers/2/value", Some(json!(3)), "offers[2].value", "a message carries no incentive"),
            ("/offers/2/kind", Some(json!("free_shipping")), "offers[2].value", "free_shipping needs a value"),
            ("/offers/2/kind", Some(json!("buy_x_get_y")), "offers[2].value", "buy_x_get_y needs a value"),
            ("/offers/2/kind", Some(json!("bundle")), "offers[2].value", "bundle needs a value"),
            ("/offers/2/kind", Some(json!("gift")), "offers[2].value", "gift needs a value"),
            ("/offers/2/kind", Some(json!("points")), "offers[2].value", "points needs a value"),
            ("/offers/0/starts", Some(json!("2026-02-30")), "offers[0].starts", "\"2026-02-30\" is not a date"),
            ("/offers/0/ends", Some(json!("next week")), "offers[0].ends", "write YYYY-MM-DD"),
            ("/offers/0/usage_limit", Some(json!(0)), "offers[0].usage_limit", "must be at least 1"),
            (
                "/offers/0/eligible/rules/0/feature",
                Some(json!("recencyy")),
                "offers[0].eligible.rules[0].feature",
                "no feature \"recencyy\" (did you mean \"recency_days\"?); features are recency_days, tenure_days,",
            ),
            (
                "/offers/0/eligible/segments/1",
                Some(json!("Hibernatin")),
                "offers[0].eligible.segments[1]",
                "(did you mean \"Hibernating\"?); segments are Champions,",
            ),
            (
                "/offers/0/eligible/rfm_groups",
                Some(json!(["Champs"])),
                "offers[0].eligible.rfm_groups[0]",
                "no RFM group \"Champs\" (did you mean \"Champions\"?)",
            ),
        ];
        for (pointer, new, path, message) in cases {
            let problems = problems_with(&[(pointer, new.clone())], &known());
            assert!(
                problems.iter().any(|p| p.path == path && p.message.contains(message)),
                "{pointer} = {new:?}: expected {path}: …{message}…, got {problems:#?}"
            );
        }
    }

    #[test]
    fn kinds_with_their_values_are_accepted() {
        for (kind, value) in [
            ("free_shipping", 0.0),
            ("free_shipping", 6.5),
            ("buy_x_get_y", 12.0),
            ("bundle", 5.0),
            ("gift", 3.0),
            ("points", 2.0),
        ] {
            let problems = problems_with(
                &[("/offers/2/kind", Some(json!(kind))), ("/offers/2/value", Some(json!(value)))],
                &known(),
            );
            assert_eq!(problems, vec![], "{kind} {value}");
        }
        let problems =
            problems_with(&[("/offers/2/kind", Some(json!("points"))), ("/offers/2/value", Some(json!(0)))], &known());
        assert_eq!(problems[0].path, "offers[2].value");
        assert!(problems[0].message.starts_with("must be above 0 (the points multiplier"), "{problems:?}");
    }

    #[test]
    fn exact_messages_of_the_brief() {
        let shown = |edits: &[(&str, Option<Value>)]| -> Vec<String> {
            problems_with(edits, &known()).iter().map(Problem::to_string).collect()
        };
        assert_eq!(shown(&[("/budget", Some(json!(-5)))]), ["budget: must be ≥ 0, got -5"]);
        assert_eq!(
            shown(&[("/holdout", Some(json!(1.5)))]),
            ["holdout: must be between 0 and 1 (exclusive of 1), got 1.5"]
        );
        assert_eq!(shown(&[("/offers", Some(json!([])))]), ["offers: the campaign has no offers"]);
        assert_eq!(
            shown(&[("/offers/1/channel", Some(json!("sms")))]),
            ["offers[1].channel: no channel \"sms\"; channels are email"]
        );
        assert_eq!(
            shown(&[("/offers/0/value", Some(json!(120)))]),
            ["offers[0].value: percent_off needs a value between 0 and 100, got 120"]
        );
        assert_eq!(
            shown(&[("/offers/0/starts", Some(json!("2026-02-01"))), ("/offers/0/ends", Some(json!("2026-01-01")))]),
            ["offers[0].ends: 2026-01-01 is before starts 2026-02-01"]
        );
    }

    #[test]
    fn tiers_must_rise() {
        let tiers = json!([{"min_spend": 500, "value": 80}, {"min_spend": 300, "value": 40}]);
        let problems = problems_with(
            &[("/offers/1/tiers", Some(tiers)), ("/offers/1/value", None), ("/offers/1/min_spend", None)],
            &known(),
        );
        let shown: Vec<String> = problems.iter().map(Problem::to_string).collect();
        assert_eq!(
            shown,
            [
                "offers[1].tiers[1].min_spend: tiers must rise: 300 is not above 500",
                "offers[1].tiers[1].value: a higher tier must save more: 40 is not above 80"
            ]
        );
        // 满300减40 / 满500减80, as DATA.md writes it, is fine.
        let good = json!([{"min_spend": 300, "value": 40}, {"min_spend": 500, "value": 80}]);
        let edits = [("/offers/1/tiers", Some(good)), ("/offers/1/value", None), ("/offers/1/min_spend", None)];
        assert_eq!(problems_with(&edits, &known()), vec![]);
        let c = read_campaign(&example_with(&edits)).unwrap();
        assert_eq!(
            c.offers[1].tiers,
            Some(vec![Tier { min_spend: 300.0, value: 40.0 }, Tier { min_spend: 500.0, value: 80.0 }])
        );
        // A min_spend beside tiers, an empty list, a bad tier.
        let problems = problems_with(
            &[("/offers/1/tiers", Some(json!([{"min_spend": 300, "value": 40}]))), ("/offers/1/value", None)],
            &known(),
        );
        assert_eq!(problems[0].path, "offers[1].min_spend");
        let problems = problems_with(
            &[("/offers/1/tiers", Some(json!([]))), ("/offers/1/value", None), ("/offers/1/min_spend", None)],
            &known(),
        );
        assert_eq!(problems[0].path, "offers[1].tiers");
        let bad = json!([{"min_spend": 0, "value": -1}]);
        let problems = problems_with(
            &[("/offers/1/tiers", Some(bad)), ("/offers/1/value", None), ("/offers/1/min_spend", None)],
            &known(),
        );
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["offers[1].tiers[0].min_spend", "offers[1].tiers[0].value"]);
    }

    #[test]
    fn dates() {
        let m = Moment::parse("2026-02-01").unwrap();
        assert!(!m.has_time);
        assert_eq!(m.start_ms(), 1_769_904_000_000);
        assert_eq!(m.end_ms(), 1_769_904_000_000 + 86_400_000);
        assert_eq!(Moment::parse("1970-01-01").unwrap().start_ms(), 0);
        assert_eq!(Moment::parse("1969-12-31 23:59:59").unwrap().start_ms(), -1000);
        let t = Moment::parse("2026-02-01 10:30").unwrap();
        assert!(t.has_time);
        assert_eq!(t.start_ms(), 1_769_904_000_000 + 37_800_000);
        assert_eq!(t.end_ms(), t.start_ms());
        assert_eq!(Moment::parse("2026-02-01T10:30:15").unwrap().second, 15);
        assert!(Moment::parse("2024-02-29").is_some());
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-1-1",
            "2026-02-01 24:00",
            "2026-02-01 10:60",
            "2026-02-01 10:30:60",
            "2026-02-01 10",
            "2026/02/01",
            "",
            "20260201",
            "2026-02-01 10:30:1x",
        ] {
            assert!(Moment::parse(bad).is_none(), "{bad}");
        }
        // A date alone as the end includes that day, so a one-day offer is fine.
        let same_day = [("/offers/0/starts", Some(json!("2026-02-01"))), ("/offers/0/ends", Some(json!("2026-02-01")))];
        assert_eq!(problems_with(&same_day, &known()), vec![]);
        let c = read_campaign(&example_with(&same_day)).unwrap();
        assert_eq!(c.offers[0].starts_ms(), Some(1_769_904_000_000));
        assert_eq!(c.offers[0].ends_ms(), Some(1_769_904_000_000 + 86_400_000));
        assert_eq!(c.offers[1].starts_ms(), None);
        let same_moment = [
            ("/offers/0/starts", Some(json!("2026-02-01 10:00"))),
            ("/offers/0/ends", Some(json!("2026-02-01 10:00"))),
        ];
        let shown: Vec<String> = problems_with(&same_moment, &known()).iter().map(Problem::to_string).collect();
        assert_eq!(shown, ["offers[0].ends: 2026-02-01 10:00 is not after starts 2026-02-01 10:00"]);
        let before =
            [("/offers/0/starts", Some(json!("2026-02-01"))), ("/offers/0/ends", Some(json!("2026-01-31 23:00")))];
        assert_eq!(problems_with(&before, &known())[0].message, "2026-01-31 23:00 is before starts 2026-02-01");
    }

    #[test]
    fn names_are_checked_only_when_known() {
        let mut k = known();
        k.segments = None;
        assert_eq!(problems_with(&[("/offers/0/eligible/segments/0", Some(json!("Whoever")))], &k), vec![]);
        // The response arm: unchecked without a response file, checked with one.
        assert_eq!(problems_with(&[], &k), vec![]);
        k.arms = Some(vec!["email only".into(), "15% off".into(), "control".into()]);
        let shown: Vec<String> = problems_with(&[], &k).iter().map(Problem::to_string).collect();
        assert_eq!(
            shown,
            ["offers[2].response: no calibrated arm \"e-mail only\" (did you mean \"email only\"?); \
                 the response file has email only, 15% off, control"]
        );
        k.arms = Some(vec!["e-mail only".into()]);
        assert_eq!(problems_with(&[], &k), vec![]);
        k.arms = Some(vec![]);
        assert_eq!(
            problems_with(&[], &k)[0].message,
            "no calibrated arm \"e-mail only\"; the response file has no arms"
        );
        // Features are always checked; a --customers column counts once the caller lists it.
        k.features.push("loyalty_points".into());
        let rule = json!({"feature": "loyalty_points", "op": "<", "value": 100});
        assert_eq!(problems_with(&[("/offers/0/eligible/rules/1", Some(rule))], &known()).len(), 1);
        k.arms = None;
        let rule = json!({"feature": "loyalty_points", "op": "<", "value": 100});
        assert_eq!(problems_with(&[("/offers/0/eligible/rules/1", Some(rule))], &k), vec![]);
    }

    #[test]
    fn far_names_get_no_suggestion_and_long_lists_are_cut() {
        assert_eq!(nearest("sms", &["email"]), None);
        assert_eq!(nearest("recencyy", &CUSTOMER_FEATURES), Some("recency_days"));
        assert_eq!(nearest("recency", &CUSTOMER_FEATURES), Some("recency_days"));
        assert_eq!(nearest("Monetery", &CUSTOMER_FEATURES), Some("monetary"));
        assert_eq!(nearest("zzz", &CUSTOMER_FEATURES), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("满300减40", "满300减80"), 1);
        let many: Vec<String> = (0..20).map(|i| format!("col{i}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(name_list(&names).ends_with("col19"));
        let many: Vec<String> = (0..30).map(|i| format!("col{i}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(name_list(&names).ends_with("col19, … (10 more)"));
    }

    #[test]
    fn every_problem_is_reported_one_per_line() {
        let edits = [
            ("/budget", Some(json!(-5))),
            ("/holdout", Some(json!(1.5))),
            ("/offers/1/channel", Some(json!("sms"))),
            ("/offers/0/eligible/rules/0/feature", Some(json!("recencyy"))),
        ];
        let text = example_with(&edits);
        let err = load_campaign(&text, &known()).unwrap_err();
        let CampaignError::Invalid(problems) = &err else { panic!("{err:?}") };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["budget", "holdout", "offers[0].eligible.rules[0].feature", "offers[1].channel"]);
        let shown = err.to_string();
        assert_eq!(shown.lines().count(), 4);
        assert!(shown.lines().next().unwrap().starts_with("budget: must be ≥ 0"));
    }

    #[test]
    fn assumptions_are_checked() {
        let defaults = Assumptions::default();
        for (name, a) in defaults.all() {
            assert!(a.low <= a.value && a.value <= a.high, "{name}");
            assert!(!a.source.is_empty());
        }
        let mut c = read_campaign(EXAMPLE).unwrap();
        c.assumptions = Some(Assumptions::default());
        assert_eq!(c.validate(&known()), vec![]);

        let with = |assumptions: Value| problems_with(&[("/assumptions", Some(assumptions))], &known());
        fn a(value: f64, low: f64, high: f64, source: &str) -> Value {
            json!({"value": value, "low": low, "high": high, "source": source})
        }
        let cases = [
            (
                "threshold_pull",
                a(0.3, 0.1, 1.2, "s"),
                "assumptions.threshold_pull.high",
                "must be between 0 and 1 (a share), got 1.2",
            ),
            ("redemption_rate", a(-0.1, -0.2, 0.9, "s"), "assumptions.redemption_rate.value", "got -0.1"),
            ("message_lift", a(0.05, 0.1, 0.0, "s"), "assumptions.message_lift.low", "low 0.1 is above high 0"),
            (
                "message_lift",
                a(0.2, 0.0, 0.1, "s"),
                "assumptions.message_lift.value",
                "must be between low 0 and high 0.1, got 0.2",
            ),
            ("gift_lift", a(0.1, -2.0, 0.2, "s"), "assumptions.gift_lift.low", "must be ≥ −1"),
            (
                "discount_saturation",
                a(0.6, 0.0, 1.0, "s"),
                "assumptions.discount_saturation.low",
                "must be above 0 (a scale)",
            ),
            ("bundle_lift", a(0.1, 0.0, 0.2, " "), "assumptions.bundle_lift.source", "say where the number comes from"),
        ];
        for (name, assumption, path, message) in cases {
            let problems = with(json!({ name: assumption }));
            assert!(
                problems.iter().any(|p| p.path == path && p.message.contains(message)),
                "{name}: expected {path}: …{message}…, got {problems:#?}"
            );
        }
        // A lift may be negative: a message can put people off.
        assert_eq!(with(json!({"message_lift": a(0.0, -0.05, 0.1, "a past test")})), vec![]);
        // Those not given keep their defaults.
        let text = example_with(&[("/assumptions", Some(json!({"gift_lift": a(0.1, 0.0, 0.2, "our 2024 test")})))]);
        let c = read_campaign(&text).unwrap();
        let got = c.assumptions.unwrap();
        assert_eq!(got.gift_lift.source, "our 2024 test");
        assert_eq!(got.message_lift, Assumptions::default().message_lift);
    }

    #[test]
    fn unknown_fields_are_named_with_their_path_and_position() {
        let cases = [
            ("/colour", "colour"),
            ("/channels/0/colour", "channels[0].colour"),
            ("/offers/1/colour", "offers[1].colour"),
            ("/offers/0/eligible/colour", "offers[0].eligible.colour"),
            ("/offers/0/eligible/rules/0/colour", "offers[0].eligible.rules[0].colour"),
            ("/offers/1/tiers", "offers[1].tiers[0].colour"),
            ("/assumptions", "assumptions.colour"),
            ("/assumptions", "assumptions.message_lift.colour"),
        ];
        for (pointer, expected) in cases {
            let value = match expected {
                "offers[1].tiers[0].colour" => json!([{"min_spend": 1, "value": 1, "colour": 1}]),
                "assumptions.colour" => json!({"colour": 1}),
                "assumptions.message_lift.colour" => {
                    json!({"message_lift": {"value": 0.1, "low": 0, "high": 1, "source": "s", "colour": 1}})
                }
                _ => json!("red"),
            };
            let text = example_with(&[(pointer, Some(value))]);
            let (path, line, column, message) = structure(&text);
            assert_eq!(path, expected);
            assert!(message.starts_with("unknown field \"colour\"; the fields here are "), "{message}");
            assert_eq!((line, column), position_of_end(&text, "\"colour\""), "{expected}");
        }
        let (path, _, _, message) = structure(&example_with(&[("/offers/0/valu", Some(json!(10)))]));
        assert_eq!(path, "offers[0].valu");
        assert!(message.starts_with("unknown field \"valu\" (did you mean \"value\"?)"), "{message}");
        let err = read_campaign(&example_with(&[("/offers/0/valu", Some(json!(10)))])).unwrap_err().to_string();
        assert!(err.starts_with("offers[0].valu: unknown field \"valu\""), "{err}");
        assert!(err.contains("(line "), "{err}");
    }

    #[test]
    fn wrong_types_are_named_with_their_path() {
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("/budget", json!("lots"), "budget", "invalid type: string \"lots\", expected a number"),
            ("/holdout", json!("10%"), "holdout", "invalid type"),
            ("/name", json!(["x"]), "name", "invalid type: a list"),
            ("/seed", json!(-1), "seed", "expected a whole number, 0 or more"),
            ("/seed", json!(1.5), "seed", "invalid type"),
            (
                "/assignment",
                json!("random"),
                "assignment",
                "unknown value \"random\"; it must be one of optimise, optimize, everyone",
            ),
            ("/channels", json!({}), "channels", "expected a list"),
            (
                "/channels/0",
                json!(["email", 0.003, 0.95]),
                "channels[0]",
                "invalid type: a list ([ … ]), expected an object",
            ),
            ("/channels/0/reach", json!(null), "channels[0].reach", "invalid type: null"),
            ("/offers", json!("none"), "offers", "invalid type"),
            ("/offers/1", json!(["Spend", "amount_off"]), "offers[1]", "expected an object"),
            ("/offers/2/value", json!("ten"), "offers[2].value", "invalid type: string \"ten\""),
            (
                "/offers/0/kind",
                json!("percent"),
                "offers[0].kind",
                "unknown value \"percent\" (did you mean \"percent_off\"?)",
            ),
            (
                "/offers/0/kind",
                json!(5),
                "offers[0].kind",
                "invalid type: a number, expected a name in quotes, one of message, percent_off,",
            ),
            ("/offers/0/kind", json!(["percent_off"]), "offers[0].kind", "expected a name in quotes"),
            (
                "/offers/0/kind",
                json!({"percent_off": 1}),
                "offers[0].kind",
                "invalid type: an object, expected a name in quotes",
            ),
            (
                "/offers/0/eligible/rules/0/op",
                json!(1),
                "offers[0].eligible.rules[0].op",
                "one of <, <=, >, >=, ==, !=",
            ),
            ("/assignment", json!(null), "assignment", "invalid type: null, expected a name in quotes"),
            ("/offers/0/kind", json!(null), "offers[0].kind", "invalid type: null, expected a name in quotes"),
            ("/assignment", json!(["everyone"]), "assignment", "expected a name in quotes, one of optimise, everyone"),
            ("/offers/0/usage_limit", json!(-1), "offers[0].usage_limit", "expected a whole number"),
            ("/offers/0/eligible", json!(["At risk"]), "offers[0].eligible", "expected an object"),
            ("/offers/0/eligible", json!(3), "offers[0].eligible", "expected an object"),
            ("/offers/0/eligible/segments", json!("At risk"), "offers[0].eligible.segments", "expected a list"),
            ("/offers/0/eligible/segments/1", json!(7), "offers[0].eligible.segments[1]", "invalid type: integer `7`"),
            ("/offers/0/eligible/rules/0/op", json!("=>"), "offers[0].eligible.rules[0].op", "unknown value \"=>\""),
            (
                "/offers/0/eligible/rules/0",
                json!(["recency_days", ">=", 60]),
                "offers[0].eligible.rules[0]",
                "expected an object",
            ),
            ("/offers/0/eligible/rules/0/value", json!("60"), "offers[0].eligible.rules[0].value", "expected a number"),
            ("/offers/1/tiers", json!([[300, 40]]), "offers[1].tiers[0]", "expected an object"),
            ("/assumptions", json!([]), "assumptions", "expected an object"),
            ("/assumptions", json!({"gift_lift": [0.1, 0, 1, "s"]}), "assumptions.gift_lift", "expected an object"),
            (
                "/assumptions",
                json!({"gift_lift": {"value": "high", "low": 0, "high": 1, "source": "s"}}),
                "assumptions.gift_lift.value",
                "invalid type",
            ),
            ("/version", json!("1"), "version", "invalid type: string \"1\""),
            ("/version", json!(-1), "version", "expected a whole number"),
        ];
        for (pointer, value, expected_path, expected_message) in cases {
            let text = example_with(&[(pointer, Some(value.clone()))]);
            let (path, line, column, message) = structure(&text);
            assert_eq!(path, expected_path, "{pointer} = {value}: {message}");
            assert!(message.contains(expected_message), "{pointer} = {value}: {message}");
            assert!(line > 1 && column > 1, "{pointer}: line {line} column {column}");
        }
    }

    #[test]
    fn missing_fields_are_named_with_their_path() {
        let cases = [
            ("/name", "name"),
            ("/channels", "channels"),
            ("/offers", "offers"),
            ("/channels/0/name", "channels[0].name"),
            ("/offers/1/channel", "offers[1].channel"),
            ("/offers/0/kind", "offers[0].kind"),
            ("/offers/0/eligible/rules/0/op", "offers[0].eligible.rules[0].op"),
        ];
        for (pointer, expected) in cases {
            let (path, _, _, message) = structure(&example_with(&[(pointer, None)]));
            assert_eq!(path, expected);
            assert_eq!(message, "missing: this field is required");
        }
        let text = example_with(&[("/offers/1/tiers", Some(json!([{"value": 40}])))]);
        assert_eq!(structure(&text).0, "offers[1].tiers[0].min_spend");
        let text = example_with(&[("/assumptions", Some(json!({"gift_lift": {"value": 0.1, "low": 0, "high": 1}})))]);
        assert_eq!(structure(&text).0, "assumptions.gift_lift.source");
        let compact = r#"{"name":"n","channels":[],"offers":[{"name":"o","kind":"message"}]}"#;
        assert_eq!(structure(compact).0, "offers[0].channel");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let text = "{\"name\": \"a\", \"name\": \"b\", \"channels\": [], \"offers\": []}";
        let (path, line, column, message) = structure(text);
        assert_eq!((path.as_str(), line, column), ("name", 1, 20));
        assert_eq!(message, "this field is given twice; keep one");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let text = "{\n  \"name\": \"x\",\n  \"channels\": [],\n}";
        match read_campaign(text) {
            Err(CampaignError::Syntax { line, column, message }) => {
                assert_eq!((line, column), (4, 1));
                assert_eq!(message, "trailing comma");
            }
            other => panic!("{other:?}"),
        }
        let text = "{\n  \"name\": \"x\"\n  \"channels\": []\n}";
        let err = read_campaign(text).unwrap_err();
        assert!(matches!(err, CampaignError::Syntax { line: 3, column: 3, .. }), "{err:?}");
        assert_eq!(err.to_string(), "line 3, column 3: not valid JSON: expected `,` or `}`");
        let err = read_campaign("").unwrap_err();
        assert!(matches!(err, CampaignError::Syntax { line: 1, column: 0, .. }), "{err:?}");
        // Characters, not bytes: 满 and 减 are three bytes each in UTF-8.
        let text = "{\"name\": \"满300减40\" \"x\"}";
        let err = read_campaign(text).unwrap_err();
        assert!(matches!(err, CampaignError::Syntax { line: 1, column: 20, .. }), "{err:?}");
        // A syntax error after a type error is still reported as syntax: JSON is read first.
        let err = read_campaign("{\"name\": 5, \"channels\": [}").unwrap_err();
        assert!(matches!(err, CampaignError::Syntax { .. }), "{err:?}");
    }

    #[test]
    fn type_error_columns_count_characters() {
        let text = "{\"name\": \"满300减40\", \"budget\": \"x\", \"channels\": [], \"offers\": []}";
        let (path, line, column, _) = structure(text);
        assert_eq!(path, "budget");
        assert_eq!((line, column), (1, 33));
        assert_eq!(text.chars().nth(column - 1), Some('"'));
    }

    #[test]
    fn the_top_level_must_be_an_object() {
        for text in ["[]", "  42", "\"campaign\"", "null"] {
            let (path, line, column, message) = structure(text);
            assert_eq!(path, "");
            assert_eq!(line, 1);
            assert_eq!(column, text.len() - text.trim_start().len() + 1);
            assert!(message.starts_with("a campaign file holds one JSON object"), "{message}");
        }
    }

    #[test]
    fn versions() {
        let text = example_with(&[("/version", Some(json!(1)))]);
        assert_eq!(read_campaign(&text).unwrap().version, 1);
        // A newer file is refused for its version, before its unknown fields.
        let text = example_with(&[("/version", Some(json!(2))), ("/audience", Some(json!("all")))]);
        let err = read_campaign(&text).unwrap_err();
        assert!(matches!(err, CampaignError::UnsupportedVersion { found: 2, supported: 1 }), "{err:?}");
        assert!(err.to_string().starts_with("version: this campaign file is version 2, newer than this program reads"));
        let err = read_campaign(&example_with(&[("/version", Some(json!(0)))])).unwrap_err();
        assert!(matches!(err, CampaignError::UnsupportedVersion { found: 0, .. }), "{err:?}");
        assert!(err.to_string().contains("versions start at 1"));
        let mut c = read_campaign(EXAMPLE).unwrap();
        c.version = 7;
        assert_eq!(c.validate(&known())[0].path, "version");
    }

    #[test]
    fn a_campaign_round_trips() {
        let mut c = read_campaign(EXAMPLE).unwrap();
        c.assignment = Assignment::Everyone;
        c.assumptions = Some(Assumptions::default());
        let mut tiered = Offer::new("满300减40 / 满500减80", OfferKind::AmountOff, "email");
        tiered.tiers = Some(vec![Tier { min_spend: 300.0, value: 40.0 }, Tier { min_spend: 500.0, value: 80.0 }]);
        tiered.starts = Some("2026-02-01".into());
        tiered.ends = Some("2026-02-14 23:59:59".into());
        tiered.usage_limit = Some(2);
        tiered.eligible = Some(Eligibility {
            segments: vec![],
            rfm_groups: vec!["Can't lose them".into()],
            rules: vec![Rule { feature: "p_alive".into(), op: Comparison::Above, value: 0.5 }],
        });
        c.offers.push(tiered);
        let text = c.to_file_text().unwrap();
        assert!(text.ends_with("}\n"));
        assert!(text.contains("\"version\": 1"));
        assert!(!text.contains("null"), "absent options are left out:\n{text}");
        let back = read_campaign(&text).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.validate(&known()), vec![]);
        assert_eq!(back.to_file_text().unwrap(), text);
        assert_eq!(read_campaign(&c.to_json_pretty().unwrap()).unwrap(), c);
        let mut written = Vec::new();
        c.write_to(&mut written).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), text);
        // The example itself, written and read back.
        let example = read_campaign(EXAMPLE).unwrap();
        assert_eq!(read_campaign(&example.to_file_text().unwrap()).unwrap(), example);
        // A fresh draft too, although it cannot run yet.
        let draft = Campaign::new("Draft");
        assert_eq!(read_campaign(&draft.to_file_text().unwrap()).unwrap(), draft);
        assert_eq!(draft.validate(&known()).len(), 2);
    }

    #[test]
    fn numbers_json_cannot_hold_are_refused() {
        let mut c = read_campaign(EXAMPLE).unwrap();
        c.margin = f64::NAN;
        c.offers[0].eligible.as_mut().unwrap().rules[0].value = f64::INFINITY;
        let err = c.to_json_pretty().unwrap_err();
        let CampaignError::Invalid(problems) = &err else { panic!("{err:?}") };
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["margin", "offers[0].eligible.rules[0].value"]);
        // Validation reports each once, not again as out of range.
        let problems = c.validate(&known());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(c.write_to(&mut Vec::new()).unwrap_err().starts_with("margin: must be a finite number"));
    }

    #[test]
    fn replay_finds_paths() {
        let text = r#"{"a": [1, {"b": [[], {"c": "x,}]"}]}], "d": {"e\"f": 2}}"#;
        let mut seen = Vec::new();
        Replay::run(text, text.len(), |open, at| seen.push((render(open), text[at..].chars().next().unwrap())));
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["", "a", "a[0]", "a[1]", "a[1].b", "a[1].b[0]", "a[1].b[1]", "a[1].b[1].c", "d", "d.e\"f"]);
        assert_eq!(locate(text, "a[1].b[1].c"), Some((1, 28)));
        assert_eq!(locate(text, "zz"), None);
    }
}
