//! The default response model (DATA.md §8): what a customer would do over
//! the campaign's horizon without it (p0, s0, from the BG/NBD and
//! Gamma-Gamma fits), and what an offer changes (p1, s1, its cost), from the
//! campaign's documented assumptions. Every number here is an expectation;
//! the simulation draws around them.

use super::file::{Assumptions, Channel, Offer, OfferKind};
use crate::core::value::CustomerValue;
use crate::core::value::bgnbd::BgNbd;

/// The value of points, as a share of the spend they are earned on (one
/// point per unit of spend, redeemed at 1%: the common retail rate). A
/// `points` offer with multiplier m costs (m − 1) of that.
pub const POINT_VALUE_SHARE: f64 = 0.01;

/// Probabilities are kept below 1: a forecast that is certain is wrong.
const MAX_PROBABILITY: f64 = 0.999;

/// Where a customer's baseline came from, said in the plan's summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineSource {
    /// BG/NBD and Gamma-Gamma fitted on the shop's own history.
    Fitted,
    /// A customer with no purchase yet: the BG/NBD of a newly acquired customer.
    NewCustomer,
    /// No fit was possible: the share who bought in a past window as long as
    /// the horizon, and their usual order value.
    RecentRate,
}

/// A customer's expected behaviour over the horizon without the campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// P(buys at least once).
    pub p0: f64,
    /// Expected spend of the customer given a purchase (list prices).
    pub s0: f64,
    /// Expected orders given a purchase (≥ 1).
    pub orders: f64,
    /// The usual order value (what a threshold is compared with).
    pub basket: f64,
    pub source: BaselineSource,
}

impl Baseline {
    fn new(p0: f64, orders: f64, basket: f64, source: BaselineSource) -> Baseline {
        let p0 = p0.clamp(0.0, MAX_PROBABILITY);
        let orders = orders.max(1.0);
        Baseline { p0, s0: orders * basket, orders, basket, source }
    }
}

/// P(no purchase in `horizon`) for a customer alive now with x repeat
/// purchases by T: the purchase rate's posterior is Gamma(r + x, α + T), and a
/// customer can only drop out after a purchase, so none in the window is the
/// negative binomial's zero.
fn none_while_alive(m: &BgNbd, x: f64, t: f64, horizon: f64) -> f64 {
    ((m.alpha + t) / (m.alpha + t + horizon)).powf(m.r + x)
}

/// The baseline of a customer with history `i` of `value`, over `horizon_days`.
pub fn fitted_baseline(value: &CustomerValue, i: usize, horizon_days: f64, basket: Option<f64>) -> Option<Baseline> {
    let h = &value.history;
    let horizon = horizon_days / value.unit.days();
    let (x, t_x, t) = (h.x[i], h.t_x[i], h.big_t[i]);
    let m = &value.bgnbd;
    let p0 = m.p_alive(x, t_x, t) * (1.0 - none_while_alive(m, x, t, horizon));
    let expected = m.expected_purchases(x, t_x, t, horizon);
    let per_order = value.expected_spend[i].or(basket)?;
    (p0 > 0.0 && p0.is_finite() && expected.is_finite())
        .then(|| Baseline::new(p0, expected / p0, per_order, BaselineSource::Fitted))
}

/// The baseline of a customer who has not bought yet: the fitted BG/NBD of
/// someone acquired today, and the population's mean order value.
pub fn new_customer_baseline(value: &CustomerValue, horizon_days: f64, basket: f64) -> Baseline {
    let horizon = horizon_days / value.unit.days();
    let m = &value.bgnbd;
    let p0 = 1.0 - none_while_alive(m, 0.0, 0.0, horizon);
    let expected = m.expected_purchases(0.0, 0.0, 0.0, horizon);
    let orders = if p0 > 0.0 { expected / p0 } else { 1.0 };
    Baseline::new(p0, orders, basket, BaselineSource::NewCustomer)
}

/// Without a fit: the share of customers who bought in the last window as
/// long as the horizon stands for everyone's chance, at one order.
pub fn recent_rate_baseline(recent_share: f64, basket: f64) -> Baseline {
    Baseline::new(recent_share, 1.0, basket, BaselineSource::RecentRate)
}

/// The diminishing-returns curve of response to an incentive of relative
/// depth `depth` (0.1 = 10% of the order): rises with slope k at first and
/// levels off at k · s (the shape of the Thornton incentive experiment).
pub fn incentive_lift(a: &Assumptions, depth: f64) -> f64 {
    let k = a.discount_lift_per_10pct.value / 0.1;
    let s = a.discount_saturation.value.max(1e-9);
    k * s * (1.0 - (-depth.max(0.0) / s).exp())
}

/// What an offer is expected to do for one customer, over the horizon,
/// against what the customer would do without it (p0, s0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    pub p0: f64,
    pub s0: f64,
    pub p1: f64,
    pub s1: f64,
    /// Incentives paid (discounts, shipping, gifts, points), on every redeemed
    /// order, also those the customer would have placed anyway.
    pub incentive_cost: f64,
    pub message_cost: f64,
}

impl Effect {
    pub fn uplift(&self) -> f64 {
        self.p1 - self.p0
    }

    pub fn cost(&self) -> f64 {
        self.incentive_cost + self.message_cost
    }

    /// (p1·s1 − p0·s0)·margin − incentives − messages (DATA.md §8).
    pub fn incremental_profit(&self, margin: f64) -> f64 {
        (self.p1 * self.s1 - self.p0 * self.s0) * margin - self.cost()
    }
}

/// How a customer meets a spend threshold: always (their usual order is
/// above it), by being pulled up to it (usual order just below it), or not.
fn qualifying_share(a: &Assumptions, basket: f64, min_spend: Option<f64>) -> (f64, f64) {
    let Some(threshold) = min_spend.filter(|m| *m > 0.0) else { return (1.0, basket) };
    if basket >= threshold {
        (1.0, basket)
    } else if basket >= threshold * (1.0 - a.threshold_window.value) {
        // Pulled customers raise their order to the threshold; the others keep theirs.
        (a.threshold_pull.value, threshold)
    } else {
        (0.0, basket)
    }
}

/// The effect of `offer` sent through `channel` on a customer with `base`.
/// The channel's reach scales everything: a message that does not arrive
/// changes nothing and costs no incentive (but its sending is paid).
pub fn offer_effect(a: &Assumptions, offer: &Offer, channel: &Channel, base: &Baseline, margin: f64) -> Effect {
    let reached = reached_effect(a, offer, base, margin);
    let reach = channel.reach.clamp(0.0, 1.0);
    let p1 = reach * reached.p1 + (1.0 - reach) * base.p0;
    let spend = reach * reached.p1 * reached.s1 + (1.0 - reach) * base.p0 * base.s0;
    Effect {
        p0: base.p0,
        s0: base.s0,
        p1,
        s1: if p1 > 0.0 { spend / p1 } else { base.s0 },
        incentive_cost: reach * reached.incentive_cost,
        message_cost: channel.cost_per_message,
    }
}

/// The effect of `offer` where a calibrated arm (`arm`, against the
/// calibrated `control`) says what it does. The arm's results include its
/// delivery, so the channel's reach does not scale them; the incentive is
/// paid on every redeemed order of a buyer, at the arm's spend.
pub fn calibrated_effect(
    a: &Assumptions,
    offer: &Offer,
    channel: &Channel,
    base: &Baseline,
    control: (f64, Option<f64>),
    arm: (f64, Option<f64>),
) -> Effect {
    let (p0, s0) = (control.0.clamp(0.0, MAX_PROBABILITY), control.1.unwrap_or(base.s0));
    let (p1, s1) = (arm.0.clamp(0.0, MAX_PROBABILITY), arm.1.unwrap_or(s0));
    let orders = base.orders.max(1.0);
    let redeemed_orders = match offer.usage_limit {
        Some(limit) => orders.min(f64::from(limit)),
        None => orders,
    };
    let basket = s1 / orders;
    let incentive_cost = p1 * redeemed_orders * a.redemption_rate.value * cost_per_order(offer, basket);
    Effect { p0, s0, p1, s1, incentive_cost, message_cost: channel.cost_per_message }
}

/// The incentive paid on one redeemed order of value `basket` (a threshold
/// offer's order is taken to meet its threshold: that is how it was redeemed).
fn cost_per_order(offer: &Offer, basket: f64) -> f64 {
    let value = offer.value.unwrap_or(0.0);
    match offer.kind {
        OfferKind::Message => 0.0,
        OfferKind::PercentOff => basket * value / 100.0,
        OfferKind::AmountOff => match &offer.tiers {
            Some(tiers) if !tiers.is_empty() => {
                tiers.iter().filter(|t| t.min_spend <= basket).map(|t| t.value).fold(tiers[0].value, f64::max)
            }
            _ => value,
        },
        OfferKind::Points => basket * (value - 1.0).max(0.0) * POINT_VALUE_SHARE,
        OfferKind::FreeShipping | OfferKind::Gift | OfferKind::Bundle | OfferKind::BuyXGetY => value,
    }
}

/// A purchase probability raised by a relative `lift`, on the odds scale:
/// the published lifts are measured on low conversion rates, where odds and
/// probability agree; for a customer who would almost surely buy anyway the
/// odds scale leaves little to gain instead of pushing p past 1.
pub fn lifted(p0: f64, lift: f64) -> f64 {
    let p0 = p0.clamp(0.0, MAX_PROBABILITY);
    let odds = p0 / (1.0 - p0) * (1.0 + lift).max(0.0);
    (odds / (1.0 + odds)).min(MAX_PROBABILITY)
}

/// What an offer's terms mean for one customer who received it.
struct Terms {
    /// Relative lift of the purchase probability when the terms are met.
    lift: f64,
    /// The share of the customer's chances that meet the terms (a threshold).
    qualify: f64,
    /// The order value when the terms are met.
    basket: f64,
    /// The incentive paid on one redeemed order.
    cost_per_order: f64,
}

/// The effect on a customer the message reached.
/// `margin` values revenue against incentives where the customer's response
/// depends on a choice (which tier of stepped savings to reach for).
fn reached_effect(a: &Assumptions, offer: &Offer, base: &Baseline, margin: f64) -> Effect {
    let message = a.message_lift.value;
    let value = offer.value.unwrap_or(0.0);
    let terms = |lift: f64, cost_per_order: &dyn Fn(f64) -> f64| {
        let (qualify, basket) = qualifying_share(a, base.basket, offer.min_spend);
        Terms { lift: message + lift, qualify, basket, cost_per_order: cost_per_order(basket) }
    };
    let effect = |t: Terms| respond(a, offer, base, t);
    match offer.kind {
        OfferKind::Message => effect(Terms { lift: message, qualify: 1.0, basket: base.basket, cost_per_order: 0.0 }),
        OfferKind::PercentOff => {
            let depth = value / 100.0;
            effect(terms(incentive_lift(a, depth), &|b| b * depth))
        }
        OfferKind::AmountOff => match &offer.tiers {
            // Stepped savings: the customer reaches for the best tier worth it to the shop.
            Some(tiers) if !tiers.is_empty() => tiers
                .iter()
                .map(|t| effect(amount_off(a, base, message, t.value, Some(t.min_spend))))
                .max_by(|x, y| {
                    (x.p1 * x.s1 * margin - x.incentive_cost).total_cmp(&(y.p1 * y.s1 * margin - y.incentive_cost))
                })
                .unwrap_or_else(|| effect(amount_off(a, base, message, 0.0, None))),
            _ => effect(amount_off(a, base, message, value, offer.min_spend)),
        },
        OfferKind::FreeShipping => effect(terms(a.free_shipping_lift.value, &|_| value)),
        OfferKind::Points => {
            let extra = (value - 1.0).max(0.0);
            effect(terms(a.points_lift_per_multiple.value * extra, &|b| b * extra * POINT_VALUE_SHARE))
        }
        OfferKind::Gift => effect(terms(a.gift_lift.value, &|_| value)),
        OfferKind::Bundle | OfferKind::BuyXGetY => effect(terms(a.bundle_lift.value, &|_| value)),
    }
}

/// Spend X save Y: the saving's depth is measured against the order it applies to.
fn amount_off(a: &Assumptions, base: &Baseline, message: f64, saving: f64, min_spend: Option<f64>) -> Terms {
    let (qualify, basket) = qualifying_share(a, base.basket, min_spend);
    let depth = if basket > 0.0 { saving / basket } else { 0.0 };
    Terms { lift: message + incentive_lift(a, depth), qualify, basket, cost_per_order: saving.min(basket) }
}

/// A received offer's effect: those who meet its terms respond with its
/// lift and are paid its incentive on each redeemed order; the others see
/// only the message.
fn respond(a: &Assumptions, offer: &Offer, base: &Baseline, t: Terms) -> Effect {
    let redeemed_orders = match offer.usage_limit {
        Some(limit) => base.orders.min(f64::from(limit)),
        None => base.orders,
    };
    let p_in = lifted(base.p0, t.lift);
    let p_out = lifted(base.p0, a.message_lift.value);
    let p1 = t.qualify * p_in + (1.0 - t.qualify) * p_out;
    let spend = t.qualify * p_in * base.orders * t.basket + (1.0 - t.qualify) * p_out * base.s0;
    let cost = t.qualify * p_in * redeemed_orders * a.redemption_rate.value * t.cost_per_order;
    Effect {
        p0: base.p0,
        s0: base.s0,
        p1,
        s1: if p1 > 0.0 { spend / p1 } else { base.s0 },
        incentive_cost: cost,
        message_cost: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(p0: f64, orders: f64, basket: f64) -> Baseline {
        Baseline::new(p0, orders, basket, BaselineSource::Fitted)
    }

    fn email(cost: f64, reach: f64) -> Channel {
        Channel { cost_per_message: cost, reach, ..Channel::new("email") }
    }

    fn offer(kind: OfferKind, value: Option<f64>, min_spend: Option<f64>) -> Offer {
        Offer { value, min_spend, ..Offer::new("o", kind, "email") }
    }

    /// Assumptions with round numbers, so that costs can be worked by hand.
    fn round() -> Assumptions {
        let mut a = Assumptions::default();
        a.message_lift.value = 0.1;
        a.discount_lift_per_10pct.value = 0.5;
        a.discount_saturation.value = 0.5;
        a.redemption_rate.value = 1.0;
        a.threshold_pull.value = 0.5;
        a.threshold_window.value = 0.2;
        a.free_shipping_lift.value = 0.2;
        a.gift_lift.value = 0.2;
        a.bundle_lift.value = 0.2;
        a.points_lift_per_multiple.value = 0.1;
        a
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_message_lifts_and_costs_only_its_sending() {
        let b = base(0.2, 2.0, 50.0);
        let e = offer_effect(&round(), &offer(OfferKind::Message, None, None), &email(0.01, 1.0), &b, 1.0);
        // Odds 0.25 × 1.1 = 0.275: p1 = 0.275 / 1.275.
        assert!(close(e.p1, 0.275 / 1.275));
        assert!(close(e.s1, 100.0));
        assert!(close(e.incentive_cost, 0.0) && close(e.message_cost, 0.01));
        assert!(close(e.incremental_profit(0.5), (0.275 / 1.275 - 0.2) * 100.0 * 0.5 - 0.01));
    }

    #[test]
    fn a_discount_is_paid_on_every_redeemed_order_also_those_that_would_have_happened() {
        // Two customers, 10% off: the cost is 10% of every order the treated buyers place.
        let a = round();
        let o = offer(OfferKind::PercentOff, Some(10.0), None);
        for b in [base(0.5, 1.0, 80.0), base(0.1, 3.0, 20.0)] {
            let e = offer_effect(&a, &o, &email(0.0, 1.0), &b, 1.0);
            let lift = 0.1 + incentive_lift(&a, 0.1);
            assert!(close(e.p1, lifted(b.p0, lift)));
            assert!(close(e.incentive_cost, e.p1 * b.orders * b.basket * 0.1), "{e:?}");
        }
        // Cannibalisation: without any lift, the discount still costs p0's orders.
        let mut flat = a.clone();
        flat.message_lift.value = 0.0;
        flat.discount_lift_per_10pct.value = 0.0;
        let b = base(0.5, 1.0, 80.0);
        let e = offer_effect(&flat, &o, &email(0.0, 1.0), &b, 1.0);
        assert!(close(e.p1, 0.5) && close(e.incentive_cost, 4.0));
        assert!(close(e.incremental_profit(1.0), -4.0));
    }

    #[test]
    fn each_kind_costs_what_the_readme_says() {
        let a = round();
        let b = base(0.5, 2.0, 100.0);
        let ch = email(0.0, 1.0);
        let cost = |o: Offer| offer_effect(&a, &o, &ch, &b, 1.0);
        // Free shipping: the shipping of each redeemed order.
        let e = cost(offer(OfferKind::FreeShipping, Some(5.0), None));
        assert!(close(e.incentive_cost, e.p1 * 2.0 * 5.0));
        // Gift and bundle: their cost per redeemed order.
        let e = cost(offer(OfferKind::Gift, Some(3.0), None));
        assert!(close(e.incentive_cost, e.p1 * 2.0 * 3.0));
        // Double points: one extra point per unit of spend at 1%.
        let e = cost(offer(OfferKind::Points, Some(2.0), None));
        assert!(close(e.incentive_cost, e.p1 * 200.0 * 0.01));
        assert!(close(e.p1, lifted(0.5, 0.1 + 0.1)));
        // Spend 50 save 8, with a usual order of 100: 8 per order.
        let e = cost(offer(OfferKind::AmountOff, Some(8.0), Some(50.0)));
        assert!(close(e.incentive_cost, e.p1 * 2.0 * 8.0));
        // A usage limit of one caps the redeemed orders.
        let mut once = offer(OfferKind::AmountOff, Some(8.0), Some(50.0));
        once.usage_limit = Some(1);
        let e = cost(once);
        assert!(close(e.incentive_cost, e.p1 * 1.0 * 8.0));
    }

    #[test]
    fn a_threshold_pulls_the_baskets_just_below_it_and_leaves_the_others() {
        let a = round();
        let o = offer(OfferKind::AmountOff, Some(10.0), Some(100.0));
        let ch = email(0.0, 1.0);
        // A usual order of 90 is within 20% below 100: half are pulled up to 100.
        let near = base(0.4, 1.0, 90.0);
        let e = offer_effect(&a, &o, &ch, &near, 1.0);
        let p_in = lifted(0.4, 0.1 + incentive_lift(&a, 0.1));
        let p_out = lifted(0.4, 0.1);
        assert!(close(e.p1, 0.5 * p_in + 0.5 * p_out));
        assert!(close(e.p1 * e.s1, 0.5 * p_in * 100.0 + 0.5 * p_out * 90.0));
        assert!(close(e.incentive_cost, 0.5 * p_in * 10.0));
        // A usual order of 50 is far below: only the message's effect, no saving paid.
        let far = base(0.4, 1.0, 50.0);
        let e = offer_effect(&a, &o, &ch, &far, 1.0);
        assert!(close(e.p1, lifted(0.4, 0.1)) && close(e.incentive_cost, 0.0) && close(e.s1, 50.0));
        // A usual order of 150 qualifies anyway: the saving is paid, depth 10/150.
        let above = base(0.4, 1.0, 150.0);
        let e = offer_effect(&a, &o, &ch, &above, 1.0);
        assert!(close(e.p1, lifted(0.4, 0.1 + incentive_lift(&a, 10.0 / 150.0))));
        assert!(close(e.incentive_cost, e.p1 * 10.0));
    }

    #[test]
    fn stepped_savings_take_the_tier_worth_most_at_the_campaign_s_margin() {
        let a = round();
        let b = base(0.3, 1.0, 420.0);
        let ch = email(0.0, 1.0);
        let tier = |min_spend: f64, value: f64| super::super::file::Tier { min_spend, value };
        let mut tiered = offer(OfferKind::AmountOff, None, None);
        tiered.tiers = Some(vec![tier(300.0, 40.0), tier(500.0, 80.0)]);
        for margin in [0.05, 1.0] {
            let each = [
                offer_effect(&a, &offer(OfferKind::AmountOff, Some(40.0), Some(300.0)), &ch, &b, margin),
                offer_effect(&a, &offer(OfferKind::AmountOff, Some(80.0), Some(500.0)), &ch, &b, margin),
            ];
            let worth = |e: &Effect| e.p1 * e.s1 * margin - e.incentive_cost;
            let best = if worth(&each[0]) >= worth(&each[1]) { each[0] } else { each[1] };
            assert_eq!(offer_effect(&a, &tiered, &ch, &b, margin), best, "margin {margin}");
        }
    }

    #[test]
    fn reach_scales_the_effect_and_the_incentives_but_not_the_sending() {
        let a = round();
        let b = base(0.3, 1.0, 60.0);
        let o = offer(OfferKind::PercentOff, Some(20.0), None);
        let full = offer_effect(&a, &o, &email(0.02, 1.0), &b, 1.0);
        let half = offer_effect(&a, &o, &email(0.02, 0.5), &b, 1.0);
        assert!(close(half.p1 - b.p0, (full.p1 - b.p0) / 2.0));
        assert!(close(half.incentive_cost, full.incentive_cost / 2.0));
        assert!(close(half.message_cost, 0.02));
    }

    #[test]
    fn a_lift_is_relative_for_the_unlikely_and_small_for_the_almost_sure() {
        assert!((lifted(0.01, 0.2) / 0.01 - 1.2).abs() < 0.01, "about p0 · 1.2 when p0 is small");
        let sure = lifted(0.9, 0.2);
        assert!(sure > 0.9 && sure < 0.92, "{sure}");
        assert!(close(lifted(0.3, 0.0), 0.3));
        assert!(lifted(0.3, -0.5) < 0.3, "a message can put people off");
    }

    #[test]
    fn deeper_discounts_lift_more_but_less_and_less() {
        let a = Assumptions::default();
        let lifts: Vec<f64> = [0.05, 0.10, 0.20, 0.40].iter().map(|&d| incentive_lift(&a, d)).collect();
        assert!(lifts.windows(2).all(|w| w[1] > w[0]), "{lifts:?}");
        assert!(lifts[1] - lifts[0] > (lifts[3] - lifts[2]) / 4.0, "diminishing returns: {lifts:?}");
        assert!(close(incentive_lift(&a, 0.0), 0.0));
    }

    #[test]
    fn the_fitted_baseline_follows_bgnbd() {
        let m = BgNbd { r: 0.5, alpha: 10.0, a: 0.8, b: 2.5, log_likelihood: 0.0, iterations: 0 };
        // Alive for sure (x = 0): P(none in 30) = (α+T)/(α+T+30))^r.
        let none = none_while_alive(&m, 0.0, 20.0, 30.0);
        assert!(close(none, (30.0f64 / 60.0).powf(0.5)));
    }
}
