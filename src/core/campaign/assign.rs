//! Who gets which offer (DATA.md §7, `assignment`).
//!
//! Every stage before this one has turned the campaign into one number pair per
//! eligible (customer, offer): the expected incremental profit and the expected
//! cost. This module only chooses from that table:
//!
//! - [`optimise`] gives each customer at most one offer, never one that is
//!   expected to lose money, and keeps the campaign's expected cost within the
//!   budget while earning as much incremental profit as it can. With a budget
//!   this is a multiple-choice knapsack; the plan comes with the LP bound, a
//!   ceiling no plan can beat, so the manager can see how close to the best it is.
//! - [`everyone`] is the A/B/n test: every eligible customer gets one of their
//!   offers at random.
//! - [`holdout`] keeps a random share of the targeted customers out as the
//!   control group, which is how a campaign proves what it earned.
//! - [`explain`] says in one sentence why a customer got what they got.
//!
//! Everything is seeded and gives the same plan on any number of threads.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use thiserror::Error;

/// Customers per parallel work unit; fixed, so that sums do not depend on the thread count.
const CHUNK: usize = 4096;

/// Separate random streams for the A/B/n draw and the holdout, so that the same
/// campaign seed does not make the two draws depend on each other.
const STREAM_EVERYONE: u64 = 0x5eed_0000_a11b_0001;
const STREAM_HOLDOUT: u64 = 0x5eed_0000_c047_0002;

/// One eligible (customer, offer) pair's expected value over the campaign's horizon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The offer's position in the campaign's offer list.
    pub offer: u32,
    /// Expected incremental profit (DATA.md §8): what sending this offer adds
    /// over sending nothing, after discounts and message costs.
    pub profit: f64,
    /// Expected cost (discounts paid plus messages): what counts against the budget.
    pub cost: f64,
}

/// Why a candidate table, or a budget, cannot be planned with.
#[derive(Debug, Error, PartialEq)]
pub enum AssignError {
    #[error(
        "customer #{customer}, offer {offer}: the expected {field} is {value}; it must be a finite number (check the offer's settings and the response model)"
    )]
    NotFinite { customer: usize, offer: u32, field: &'static str, value: f64 },
    #[error("customer #{customer}, offer {offer}: the expected cost is {value}; a cost cannot be negative")]
    NegativeCost { customer: usize, offer: u32, value: f64 },
    #[error("the candidate groups are malformed: {0}")]
    Malformed(&'static str),
    #[error("too many customers or candidates for one campaign: {0}")]
    TooLarge(&'static str),
    #[error("the budget must be a number ≥ 0, got {0}")]
    BadBudget(f64),
}

/// Every customer's eligible offers with their expected value, grouped by
/// customer: customer `c`'s candidates are `candidates()[range(c)]`.
///
/// Checked once when built (finite numbers, no negative cost), so that planning
/// never has to doubt them.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidates {
    starts: Vec<usize>,
    candidates: Vec<Candidate>,
}

impl Default for Candidates {
    fn default() -> Self {
        Candidates { starts: vec![0], candidates: Vec::new() }
    }
}

impl Candidates {
    /// One list of candidates per customer, in customer order (an empty list: eligible for nothing).
    pub fn new(groups: Vec<Vec<Candidate>>) -> Result<Candidates, AssignError> {
        let mut starts = Vec::with_capacity(groups.len() + 1);
        starts.push(0);
        let mut candidates = Vec::with_capacity(groups.iter().map(Vec::len).sum());
        for group in groups {
            candidates.extend(group);
            starts.push(candidates.len());
        }
        Candidates::from_csr(starts, candidates)
    }

    /// Already grouped: customer `c`'s candidates are `candidates[starts[c]..starts[c + 1]]`.
    pub fn from_csr(starts: Vec<usize>, candidates: Vec<Candidate>) -> Result<Candidates, AssignError> {
        if starts.first() != Some(&0) {
            return Err(AssignError::Malformed("the first group must start at 0"));
        }
        if starts.windows(2).any(|w| w[0] > w[1]) {
            return Err(AssignError::Malformed("group starts must not decrease"));
        }
        if starts.last() != Some(&candidates.len()) {
            return Err(AssignError::Malformed("the last group must end at the number of candidates"));
        }
        if starts.len() - 1 > u32::MAX as usize {
            return Err(AssignError::TooLarge("more than 4,294,967,295 customers"));
        }
        for (customer, w) in starts.windows(2).enumerate() {
            if w[1] - w[0] > u32::MAX as usize - 1 {
                return Err(AssignError::TooLarge("a customer with more than 4,294,967,294 candidates"));
            }
            for cand in &candidates[w[0]..w[1]] {
                for (field, value) in [("incremental profit", cand.profit), ("cost", cand.cost)] {
                    if !value.is_finite() {
                        return Err(AssignError::NotFinite { customer, offer: cand.offer, field, value });
                    }
                }
                if cand.cost < 0.0 {
                    return Err(AssignError::NegativeCost { customer, offer: cand.offer, value: cand.cost });
                }
            }
        }
        Ok(Candidates { starts, candidates })
    }

    /// Number of customers (including those eligible for nothing).
    pub fn customers(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Where a customer's candidates sit in [`Candidates::candidates`]; empty for an unknown customer.
    pub fn range(&self, customer: usize) -> Range<usize> {
        match (self.starts.get(customer), self.starts.get(customer + 1)) {
            (Some(&a), Some(&b)) => a..b,
            _ => 0..0,
        }
    }

    /// A customer's candidates; empty for an unknown customer.
    pub fn of(&self, customer: usize) -> &[Candidate] {
        &self.candidates[self.range(customer)]
    }

    pub fn starts(&self) -> &[usize] {
        &self.starts
    }

    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }
}

/// How a plan was made; [`explain`] words its sentences after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The most profitable offer per customer, within the budget if there is one.
    Optimise,
    /// A/B/n test: a random eligible offer per customer.
    Everyone,
}

/// Who gets which offer, and what the plan is expected to earn and cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub method: Method,
    /// Per customer: the index (into [`Candidates::candidates`]) of the chosen pair, or None.
    pub chosen: Vec<Option<usize>>,
    /// Σ expected incremental profit of the chosen pairs.
    pub total_profit: f64,
    /// Σ expected cost of the chosen pairs; never above the budget.
    pub total_cost: f64,
    /// The budget the plan was made for.
    pub budget: Option<f64>,
    /// With a budget: what the best possible plan could earn at most, if offers
    /// could be given in fractions (the LP relaxation over the offers that fit the
    /// budget on their own). `total_profit / lp_bound` says how close to the best
    /// the plan is.
    pub lp_bound: Option<f64>,
    /// With a budget: the cut-off return, in profit per unit of cost, that a
    /// customer's offer (or upgrade to a dearer offer) must beat to get budget; 0
    /// when the budget is not binding. This is the shadow price of the budget: one
    /// more unit of budget would earn about this much more profit.
    pub budget_price: Option<f64>,
}

impl Assignment {
    /// An assignment no budget shaped: its totals, and no bound or price.
    fn without_budget(method: Method, c: &Candidates, chosen: Vec<Option<usize>>) -> Assignment {
        let (total_profit, total_cost) = totals(c, &chosen);
        Assignment { method, chosen, total_profit, total_cost, budget: None, lp_bound: None, budget_price: None }
    }

    /// Customers who get an offer.
    pub fn targeted(&self) -> usize {
        self.chosen.iter().filter(|c| c.is_some()).count()
    }

    /// Per customer: whether they get an offer (the input [`holdout`] draws from).
    pub fn assigned(&self) -> Vec<bool> {
        self.chosen.iter().map(Option::is_some).collect()
    }
}

/// The plan that earns the most expected incremental profit: each customer gets
/// at most one offer, never one expected to lose money, and the expected cost
/// stays within `budget` (None: no cap).
///
/// Without a budget each customer simply gets their most profitable offer (on a
/// tie, the cheaper; then the one listed first). With a budget, customers compete
/// for it by return per unit of cost: the budget goes first to the offers, and
/// upgrades to dearer offers, that return the most profit per unit of cost,
/// until the next one no longer fits (its return is the cut-off, reported as
/// `budget_price`); whatever is left is spent on the best-returning offers or
/// upgrades that still fit. The result is within one offer's profit of the LP
/// bound, and never less than half of the best possible plan. A budget too small
/// for anyone gives an empty plan.
pub fn optimise(c: &Candidates, budget: Option<f64>) -> Result<Assignment, AssignError> {
    match budget {
        None => Ok(unconstrained(c)),
        Some(b) if b.is_nan() || b < 0.0 => Err(AssignError::BadBudget(b)),
        Some(b) => Ok(within_budget(c, b)),
    }
}

/// A/B/n test: every customer with at least one eligible offer gets one of them,
/// uniformly at random, whatever its expected profit. A customer's draw depends
/// only on the seed and their position, so it is the same on any number of
/// threads and does not change when other customers are added.
pub fn everyone(c: &Candidates, seed: u64) -> Assignment {
    let base = splitmix64(seed ^ STREAM_EVERYONE);
    let chosen: Vec<Option<usize>> = (0..c.customers())
        .into_par_iter()
        .map(|customer| {
            let range = c.range(customer);
            if range.is_empty() {
                return None;
            }
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(splitmix64(base ^ customer as u64));
            Some(range.start + rng.gen_range(0..range.len()))
        })
        .collect();
    Assignment::without_budget(Method::Everyone, c, chosen)
}

/// The control group: which of the `assigned` customers are held out (get
/// nothing, and are measured against the treated ones). Exactly
/// round(share × assigned customers) of them, chosen uniformly at random; never
/// a customer who was not assigned. `share` is clamped to [0, 1] (NaN: 0).
///
/// Each customer draws a random number from the seed and their position and the
/// lowest ones are held out, so a larger share holds out the same customers and
/// more, and the draw is the same on any machine.
pub fn holdout(assigned: &[bool], share: f64, seed: u64) -> Vec<bool> {
    let share = if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) };
    let base = splitmix64(seed ^ STREAM_HOLDOUT);
    let mut keys: Vec<(u64, usize)> =
        assigned.iter().enumerate().filter(|&(_, &a)| a).map(|(i, _)| (splitmix64(base ^ i as u64), i)).collect();
    let n = keys.len();
    // share ∈ [0, 1], so the rounded count lies in [0, n].
    let k = ((share * n as f64).round() as usize).min(n);
    let mut out = vec![false; assigned.len()];
    if k == 0 {
        return out;
    }
    if k < n {
        keys.select_nth_unstable(k - 1);
    }
    for &(_, i) in &keys[..k] {
        out[i] = true;
    }
    out
}

/// splitmix64's output function (Steele, Lea & Flood 2014): turns neighbouring
/// integers (customer positions, seeds) into independent-looking 64-bit numbers.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Σ profit and Σ cost of the chosen pairs, in fixed chunks summed in order:
/// parallel, yet the same sums on any number of threads.
fn totals(c: &Candidates, chosen: &[Option<usize>]) -> (f64, f64) {
    let partial: Vec<(f64, f64)> = chosen
        .par_chunks(CHUNK)
        .map(|chunk| {
            chunk.iter().flatten().fold((0.0, 0.0), |(p, k), &j| (p + c.candidates[j].profit, k + c.candidates[j].cost))
        })
        .collect();
    partial.iter().fold((0.0, 0.0), |(p, k), &(dp, dk)| (p + dp, k + dk))
}

/// Whether `a` is a better pick than `b` for the same customer: more profit, or as
/// much for less cost. Scanning in order with this keeps the first of equals.
fn better(a: &Candidate, b: &Candidate) -> bool {
    a.profit > b.profit || (a.profit == b.profit && a.cost < b.cost)
}

/// The customer's best offer with a positive expected profit and a cost of at
/// most `cap`, as an index into their own candidates.
fn best_of(cands: &[Candidate], cap: f64) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (j, cand) in cands.iter().enumerate() {
        if cand.profit > 0.0 && cand.cost <= cap && best.is_none_or(|b| better(cand, &cands[b])) {
            best = Some(j);
        }
    }
    best
}

fn unconstrained(c: &Candidates) -> Assignment {
    let chosen: Vec<Option<usize>> = (0..c.customers())
        .into_par_iter()
        .map(|customer| {
            let range = c.range(customer);
            best_of(&c.candidates[range.clone()], f64::INFINITY).map(|j| range.start + j)
        })
        .collect();
    Assignment::without_budget(Method::Optimise, c, chosen)
}

/// Each customer's efficient offers: those that fit the budget on their own,
/// are expected to make a profit, and that no other offer beats on both profit
/// and cost. Sorted by cost, so profit rises strictly along them too.
struct Frontier {
    /// Customer `c`'s efficient offers are `points[starts[c]..starts[c + 1]]`.
    starts: Vec<usize>,
    /// Indices into [`Candidates::candidates`].
    points: Vec<usize>,
}

impl Frontier {
    fn of(&self, customer: usize) -> &[usize] {
        &self.points[self.starts[customer]..self.starts[customer + 1]]
    }
}

/// A step along one customer's upper convex hull of (cost, profit): from their
/// previous hull offer (or nothing) to the next dearer one. Along a hull the
/// return per unit of cost only falls, so taking the steps with the highest
/// returns first never skips one of a customer's steps.
#[derive(Clone, Copy, Debug)]
struct Step {
    /// Extra profit per extra cost (∞ for a free offer).
    slope: f64,
    dc: f64,
    customer: u32,
    /// Positions as in `current`: 0 for nothing, k for the customer's k-th efficient offer.
    from: u32,
    to: u32,
}

/// Highest return first; a fixed order among equal returns, so that the plan is
/// the same however the steps were shuffled.
fn step_order(a: &Step, b: &Step) -> Ordering {
    b.slope.total_cmp(&a.slope).then(a.customer.cmp(&b.customer)).then(a.to.cmp(&b.to))
}

fn slope(dp: f64, dc: f64) -> f64 {
    if dc > 0.0 { dp / dc } else { f64::INFINITY }
}

/// One chunk of customers' frontiers and hull steps.
struct FrontierChunk {
    points: Vec<usize>,
    counts: Vec<usize>,
    steps: Vec<Step>,
}

fn frontier_chunk(c: &Candidates, customers: Range<usize>, budget: f64) -> FrontierChunk {
    let cands = c.range(customers.start).start..c.range(customers.end.saturating_sub(1)).end;
    let mut out = FrontierChunk {
        points: Vec::with_capacity(cands.len()),
        counts: Vec::with_capacity(customers.len()),
        steps: Vec::with_capacity(cands.len()),
    };
    let mut order: Vec<usize> = Vec::new();
    // (cost, profit, 1 + position in the frontier); the first entry is "nothing".
    let mut hull: Vec<(f64, f64, u32)> = Vec::new();
    for customer in customers {
        let range = c.range(customer);
        let cands = &c.candidates[range.clone()];
        order.clear();
        order.extend((0..cands.len()).filter(|&j| cands[j].profit > 0.0 && cands[j].cost <= budget));
        order.sort_unstable_by(|&a, &b| {
            cands[a].cost.total_cmp(&cands[b].cost).then(cands[b].profit.total_cmp(&cands[a].profit)).then(a.cmp(&b))
        });
        let first = out.points.len();
        let mut last_profit = 0.0;
        for &j in &order {
            if cands[j].profit > last_profit {
                last_profit = cands[j].profit;
                out.points.push(range.start + j);
            }
        }
        out.counts.push(out.points.len() - first);

        hull.clear();
        hull.push((0.0, 0.0, 0));
        for (k, &j) in out.points[first..].iter().enumerate() {
            let q = (c.candidates[j].cost, c.candidates[j].profit, k as u32 + 1);
            while let [.., a, b] = hull[..] {
                if slope(b.1 - a.1, b.0 - a.0) <= slope(q.1 - b.1, q.0 - b.0) {
                    hull.pop();
                } else {
                    break;
                }
            }
            hull.push(q);
        }
        for w in hull.windows(2) {
            let (dp, dc) = (w[1].1 - w[0].1, w[1].0 - w[0].0);
            out.steps.push(Step { slope: slope(dp, dc), dc, customer: customer as u32, from: w[0].2, to: w[1].2 });
        }
    }
    out
}

/// The budget's split: orders `steps` so that the first `taken` are the
/// highest-return steps whose costs, added up in that order, fit `budget`, and
/// returns `taken` with the first step that no longer fits (None: all fit).
///
/// A weighted quickselect rather than a full sort: linear time, and the same
/// split as a full sort would give (up to rounding in the sums).
fn split_budget(steps: &mut [Step], budget: f64) -> (usize, Option<Step>) {
    let (mut lo, mut hi) = (0, steps.len());
    let mut remaining = budget;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        steps[lo..hi].select_nth_unstable_by(mid - lo, step_order);
        let left: f64 = steps[lo..mid].iter().map(|s| s.dc).sum();
        if left > remaining {
            hi = mid;
            continue;
        }
        remaining -= left;
        let s = steps[mid];
        if s.dc <= remaining {
            remaining -= s.dc;
            lo = mid + 1;
        } else {
            return (mid, Some(s));
        }
    }
    // Only reached through rounding (or when everything fits): the step after the
    // taken ones is the smallest of the rest, a pivot left in place.
    (lo, steps.get(lo).copied())
}

/// A move of one customer to a more profitable efficient offer, with what it adds.
#[derive(Clone, Copy, Debug)]
struct Move {
    ratio: f64,
    dc: f64,
    customer: usize,
    /// Positions as in `current` (0: nothing, k: the k-th efficient offer).
    from: u32,
    to: u32,
}

impl PartialEq for Move {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Move {}
impl PartialOrd for Move {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Move {
    /// The heap pops the greatest: the highest return, then the lowest customer and positions.
    fn cmp(&self, other: &Self) -> Ordering {
        self.ratio
            .total_cmp(&other.ratio)
            .then(other.customer.cmp(&self.customer))
            .then(other.from.cmp(&self.from))
            .then(other.to.cmp(&self.to))
    }
}

/// The moves open to one customer from their current offer that cost at most `remaining`.
fn moves_of(c: &Candidates, fr: &Frontier, customer: usize, from: u32, remaining: f64, out: &mut Vec<Move>) {
    let points = fr.of(customer);
    let (c0, p0) = match from.checked_sub(1) {
        Some(k) => (c.candidates[points[k as usize]].cost, c.candidates[points[k as usize]].profit),
        None => (0.0, 0.0),
    };
    for (k, &j) in points.iter().enumerate().skip(from as usize) {
        let dc = c.candidates[j].cost - c0;
        if dc > remaining {
            break; // the frontier is sorted by cost
        }
        let dp = c.candidates[j].profit - p0;
        out.push(Move { ratio: slope(dp, dc), dc, customer, from, to: k as u32 + 1 });
    }
}

/// Spends what is left of the budget: repeatedly the move (a new offer, or an
/// upgrade to a more profitable one) with the best return per unit of cost that
/// still fits, until none fits.
fn fill(c: &Candidates, fr: &Frontier, current: &mut [u32], mut remaining: f64) {
    let initial: Vec<Move> = current
        .par_chunks(CHUNK)
        .enumerate()
        .flat_map_iter(|(k, chunk)| {
            let mut out = Vec::new();
            for (i, &from) in chunk.iter().enumerate() {
                moves_of(c, fr, k * CHUNK + i, from, remaining, &mut out);
            }
            out
        })
        .collect();
    // No move in the heap costs less than this: once the budget left is below it, nothing fits.
    let mut cheapest = initial.iter().map(|m| m.dc).fold(f64::INFINITY, f64::min);
    let mut heap = BinaryHeap::from(initial);
    let mut fresh = Vec::new();
    while remaining >= cheapest
        && let Some(m) = heap.pop()
    {
        if current[m.customer] != m.from || m.dc > remaining {
            continue; // stale (the customer has moved on) or no longer affordable
        }
        current[m.customer] = m.to;
        remaining = (remaining - m.dc).max(0.0);
        fresh.clear();
        moves_of(c, fr, m.customer, m.to, remaining, &mut fresh);
        cheapest = fresh.iter().map(|m| m.dc).fold(cheapest, f64::min);
        heap.extend(fresh.iter().copied());
    }
}

fn chosen_of(fr: &Frontier, current: &[u32]) -> Vec<Option<usize>> {
    current
        .par_iter()
        .enumerate()
        .map(|(customer, &pos)| pos.checked_sub(1).map(|k| fr.of(customer)[k as usize]))
        .collect()
}

/// A candidate plan: who gets which offer, and what it earns and costs.
struct Plan {
    chosen: Vec<Option<usize>>,
    profit: f64,
    cost: f64,
}

impl Plan {
    /// Spends what the budget has left after `current` (which costs `cost`), then adds it up.
    fn complete(c: &Candidates, fr: &Frontier, mut current: Vec<u32>, cost: f64, budget: f64) -> Plan {
        fill(c, fr, &mut current, budget - cost);
        let chosen = chosen_of(fr, &current);
        let (profit, cost) = totals(c, &chosen);
        Plan { chosen, profit, cost }
    }
}

/// A gap to the LP bound below this share of it is not worth a second plan.
const GAP_WORTH_A_SECOND_PLAN: f64 = 1e-4;

fn within_budget(c: &Candidates, budget: f64) -> Assignment {
    let n = c.customers();
    let chunks: Vec<FrontierChunk> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|k| frontier_chunk(c, k * CHUNK..((k + 1) * CHUNK).min(n), budget))
        .collect();
    let mut fr = Frontier { starts: Vec::with_capacity(n + 1), points: Vec::new() };
    fr.starts.push(0);
    let mut steps = Vec::with_capacity(chunks.iter().map(|ch| ch.steps.len()).sum());
    for ch in chunks {
        for count in ch.counts {
            fr.starts.push(fr.starts[fr.starts.len() - 1] + count);
        }
        fr.points.extend(ch.points);
        steps.extend(ch.steps);
    }
    let profit_at = |customer: u32, pos: u32| match pos.checked_sub(1) {
        Some(k) => c.candidates[fr.of(customer as usize)[k as usize]].profit,
        None => 0.0,
    };

    // The LP relaxation's optimum: every step above the cut-off, and the split
    // step in the fraction that the rest of the budget pays for.
    let (taken, split) = split_budget(&mut steps, budget);
    let mut current = vec![0u32; n];
    for s in &steps[..taken] {
        let pos = &mut current[s.customer as usize];
        *pos = (*pos).max(s.to);
    }
    let (int_profit, int_cost) = totals(c, &chosen_of(&fr, &current));
    let (lp_bound, budget_price) = match split {
        Some(s) if s.dc > 0.0 => {
            let dp = profit_at(s.customer, s.to) - profit_at(s.customer, s.from);
            (int_profit + dp * ((budget - int_cost) / s.dc).clamp(0.0, 1.0), s.slope)
        }
        Some(s) => (int_profit, s.slope),
        None => (int_profit, 0.0),
    };

    // The plan: the steps above the cut-off, with what is left spent on the best
    // returns that still fit.
    let mut best = Plan::complete(c, &fr, current.clone(), int_cost, budget);

    // On small or lumpy campaigns the step at the cut-off can be worth more than
    // the cheap steps just above it: make room for it by dropping the
    // lowest-return steps until it fits, and keep whichever plan earns more.
    if let Some(s) = split
        && lp_bound - best.profit > GAP_WORTH_A_SECOND_PLAN * lp_bound.abs()
    {
        let mut alt = current;
        alt[s.customer as usize] = s.to;
        let mut excess = int_cost + s.dc - budget;
        let taken = &mut steps[..taken];
        taken.par_sort_unstable_by(step_order);
        // Lowest return first: a customer's last step comes before their earlier ones.
        for t in taken.iter().rev() {
            if excess <= 0.0 {
                break;
            }
            if t.customer != s.customer {
                alt[t.customer as usize] = t.from;
                excess -= t.dc;
            }
        }
        let (_, cost) = totals(c, &chosen_of(&fr, &alt));
        let alt = Plan::complete(c, &fr, alt, cost, budget);
        if alt.profit > best.profit {
            best = alt;
        }
    }
    drop(steps);

    // The best single offer that fits the budget on its own: taking it when it
    // beats the plan guarantees at least half the best possible profit.
    let single = (0..n)
        .into_par_iter()
        .filter_map(|customer| fr.of(customer).last().map(|&j| (customer, j)))
        .reduce_with(|a, b| {
            let (ca, cb) = (&c.candidates[a.1], &c.candidates[b.1]);
            if better(cb, ca) || (!better(ca, cb) && b.0 < a.0) { b } else { a }
        });
    if let Some((customer, j)) = single
        && c.candidates[j].profit > best.profit
    {
        let mut alt = vec![0u32; n];
        alt[customer] = fr.of(customer).len() as u32;
        best = Plan::complete(c, &fr, alt, c.candidates[j].cost, budget);
    }

    // Rounding: the fit checks added costs in another order than the total, so the
    // total may exceed the budget by a hair; drop the lowest-return offers until it fits.
    let Plan { mut chosen, profit: mut total_profit, cost: mut total_cost, .. } = best;
    while total_cost > budget {
        let worst = chosen
            .iter()
            .enumerate()
            .filter_map(|(customer, j)| j.map(|j| (customer, c.candidates[j])))
            .filter(|(_, cand)| cand.cost > 0.0)
            .min_by(|a, b| (a.1.profit / a.1.cost).total_cmp(&(b.1.profit / b.1.cost)).then(b.0.cmp(&a.0)));
        let Some((customer, _)) = worst else { break };
        chosen[customer] = None;
        (total_profit, total_cost) = totals(c, &chosen);
    }

    Assignment {
        method: Method::Optimise,
        chosen,
        total_profit,
        total_cost,
        budget: Some(budget),
        lp_bound: Some(lp_bound),
        budget_price: Some(budget_price),
    }
}

/// One of a customer's eligible offers, as shown beside the explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplainedOption {
    /// Index into [`Candidates::candidates`].
    pub index: usize,
    pub offer: u32,
    pub profit: f64,
    pub cost: f64,
    pub chosen: bool,
}

/// Why a customer got what they got, as numbers (the sentence says the same in words).
/// Offers are named by their index into [`Candidates::candidates`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// No offer's eligibility rules let this customer in.
    NotEligible,
    /// A/B/n test: drawn at random among `offers`.
    Random { offers: usize },
    /// The most profitable of the customer's `offers` (and within the budget).
    Best { offers: usize },
    /// The most profitable offer that fits the budget; `instead_of` is more
    /// profitable but costs more than the whole budget.
    BestWithinBudget { instead_of: usize, budget: f64 },
    /// A cheaper offer than `instead_of`, because upgrading would return less per
    /// unit of extra cost than the budget's cut-off.
    CheaperBelowCutOff { instead_of: usize, extra_profit: f64, extra_cost: f64, cut_off: f64 },
    /// A cheaper offer than `instead_of`, because the upgrade's extra cost is more
    /// than the budget had left.
    CheaperLeftOver { instead_of: usize, extra_profit: f64, extra_cost: f64, left_over: f64 },
    /// No offer is expected to make a profit; `best` is the least bad one's profit.
    Unprofitable { best: f64 },
    /// Every profitable offer costs more than the whole budget.
    OverBudget { cheapest: f64, budget: f64 },
    /// The customer's best return per unit of cost is below the budget's cut-off.
    BelowCutOff { return_per_cost: f64, cut_off: f64 },
    /// The customer's return is at the cut-off, but what was left of the budget
    /// does not cover their cheapest profitable offer.
    LeftOver { left_over: f64, cheapest: f64 },
    /// A plan this module would not have made (edited by hand, say).
    Other,
}

/// A customer's eligible offers, which one they got, and why in one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub customer: usize,
    pub options: Vec<ExplainedOption>,
    /// Index into [`Candidates::candidates`].
    pub chosen: Option<usize>,
    pub reason: Reason,
    pub sentence: String,
}

/// Why `customer` got what they got in plan `a` (made from `c`). `offer_names`
/// names offers by their number (a missing name reads "offer N"). An unknown
/// customer reads as eligible for nothing.
pub fn explain<S: AsRef<str>>(c: &Candidates, a: &Assignment, customer: usize, offer_names: &[S]) -> Explanation {
    let range = c.range(customer);
    let cands = &c.candidates[range.clone()];
    let chosen = a.chosen.get(customer).copied().flatten().filter(|j| range.contains(j));
    let options = cands
        .iter()
        .enumerate()
        .map(|(k, cand)| ExplainedOption {
            index: range.start + k,
            offer: cand.offer,
            profit: cand.profit,
            cost: cand.cost,
            chosen: chosen == Some(range.start + k),
        })
        .collect();
    let reason = reason(c, a, range.clone(), chosen);
    let name = |index: usize| {
        let offer = c.candidates[index].offer;
        offer_names.get(offer as usize).map_or_else(|| format!("offer {offer}"), |s| s.as_ref().to_string())
    };
    let n = cands.len();
    let sentence = match (&reason, chosen) {
        (Reason::NotEligible, _) => "none: not eligible for any offer".to_string(),
        (Reason::Random { offers }, Some(j)) => {
            format!(
                "chosen at random for the A/B/n test: {}, one of {offers} {} it is eligible for",
                name(j),
                plural(*offers)
            )
        }
        (Reason::Best { offers: 1 }, Some(j)) => {
            format!(
                "chosen: {}, its only offer, expected incremental profit {}",
                name(j),
                money(c.candidates[j].profit)
            )
        }
        (Reason::Best { offers }, Some(j)) => format!(
            "chosen: {}, the highest expected incremental profit ({}) among {offers} offers",
            name(j),
            money(c.candidates[j].profit)
        ),
        (Reason::BestWithinBudget { instead_of, budget }, Some(j)) => format!(
            "chosen: {}, the most profitable offer within the budget ({}); {} ({}) costs {}, more than the whole budget of {}",
            name(j),
            money(c.candidates[j].profit),
            name(*instead_of),
            money(c.candidates[*instead_of].profit),
            money(c.candidates[*instead_of].cost),
            money(*budget)
        ),
        (Reason::CheaperBelowCutOff { instead_of, extra_profit, extra_cost, cut_off }, Some(j)) => format!(
            "{} instead of {}: {} would add {} of profit for {} more cost, below the budget's cut-off of {} per unit",
            name(j),
            name(*instead_of),
            name(*instead_of),
            money(*extra_profit),
            money(*extra_cost),
            ratio(*cut_off)
        ),
        (Reason::CheaperLeftOver { instead_of, extra_profit, extra_cost, left_over }, Some(j)) => format!(
            "{} instead of {}: {} would add {} of profit for {} more cost, more than the budget had left ({})",
            name(j),
            name(*instead_of),
            name(*instead_of),
            money(*extra_profit),
            money(*extra_cost),
            money(*left_over)
        ),
        (Reason::Unprofitable { best }, _) => {
            format!("none: no offer is expected to make a profit (best {})", money(*best))
        }
        (Reason::OverBudget { cheapest, budget }, _) => format!(
            "none: every profitable offer costs more than the whole budget (cheapest {}, budget {})",
            money(*cheapest),
            money(*budget)
        ),
        (Reason::BelowCutOff { return_per_cost, cut_off }, _) => format!(
            "none: the budget went to customers who return more per unit of cost (this one returns {} per 1 of cost; the cut-off is {})",
            ratio(*return_per_cost),
            ratio(*cut_off)
        ),
        (Reason::LeftOver { left_over, cheapest }, _) => format!(
            "none: the budget left over ({}) does not cover its cheapest profitable offer ({})",
            money(*left_over),
            money(*cheapest)
        ),
        (_, Some(j)) => format!(
            "chosen: {}, expected incremental profit {} among {n} {}",
            name(j),
            money(c.candidates[j].profit),
            plural(n)
        ),
        (_, None) => "none: not chosen by this plan".to_string(),
    };
    Explanation { customer, options, chosen, reason, sentence }
}

fn reason(c: &Candidates, a: &Assignment, range: Range<usize>, chosen: Option<usize>) -> Reason {
    let cands = &c.candidates[range.clone()];
    if cands.is_empty() {
        return Reason::NotEligible;
    }
    if a.method == Method::Everyone {
        return if chosen.is_some() { Reason::Random { offers: cands.len() } } else { Reason::Other };
    }
    let budget = a.budget.unwrap_or(f64::INFINITY);
    let cut_off = a.budget_price.unwrap_or(0.0);
    let left_over = (budget - a.total_cost).max(0.0);
    let best = best_of(cands, f64::INFINITY).map(|k| range.start + k);
    let best_fitting = best_of(cands, budget).map(|k| range.start + k);
    match chosen {
        Some(j) => {
            let same = |k: usize| c.candidates[k].profit == c.candidates[j].profit;
            match (best, best_fitting) {
                (Some(b), _) if same(b) => Reason::Best { offers: cands.len() },
                (Some(b), Some(f)) if same(f) => Reason::BestWithinBudget { instead_of: b, budget },
                (_, Some(f)) if a.budget.is_some() && c.candidates[f].cost > c.candidates[j].cost => {
                    let extra_profit = c.candidates[f].profit - c.candidates[j].profit;
                    let extra_cost = c.candidates[f].cost - c.candidates[j].cost;
                    if extra_profit / extra_cost < cut_off {
                        Reason::CheaperBelowCutOff { instead_of: f, extra_profit, extra_cost, cut_off }
                    } else {
                        Reason::CheaperLeftOver { instead_of: f, extra_profit, extra_cost, left_over }
                    }
                }
                _ => Reason::Other,
            }
        }
        None => {
            let Some(b) = best else {
                let least_bad = cands.iter().map(|k| k.profit).fold(f64::NEG_INFINITY, f64::max);
                return Reason::Unprofitable { best: least_bad };
            };
            if a.budget.is_none() {
                return Reason::Other;
            }
            let profitable = || cands.iter().filter(|k| k.profit > 0.0);
            if best_fitting.is_none() {
                let cheapest = profitable().map(|k| k.cost).fold(c.candidates[b].cost, f64::min);
                return Reason::OverBudget { cheapest, budget };
            }
            let fitting = || profitable().filter(|k| k.cost <= budget);
            let return_per_cost = fitting().map(|k| slope(k.profit, k.cost)).fold(0.0, f64::max);
            if return_per_cost < cut_off {
                Reason::BelowCutOff { return_per_cost, cut_off }
            } else {
                let cheapest = fitting().map(|k| k.cost).fold(f64::INFINITY, f64::min);
                Reason::LeftOver { left_over, cheapest }
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "offer" } else { "offers" }
}

/// Money with two decimals and a true minus sign.
fn money(x: f64) -> String {
    let s = format!("{x:.2}");
    match s.strip_prefix('-') {
        Some("0.00") => "0.00".to_string(),
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

/// A return per unit of cost: one decimal, two significant digits below 0.1.
fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return "∞".to_string();
    }
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 0.1 || x <= 0.0 {
        format!("{x:.1}")
    } else {
        let digits = (1.0 - x.log10().floor()).clamp(1.0, 12.0) as usize;
        format!("{x:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(offer: u32, profit: f64, cost: f64) -> Candidate {
        Candidate { offer, profit, cost }
    }

    /// Random profits (some negative, some tied) and costs (some zero, some tied).
    fn random_instance(rng: &mut Xoshiro256PlusPlus, customers: usize, max_offers: usize) -> Candidates {
        let groups = (0..customers)
            .map(|_| {
                let k = rng.gen_range(0..=max_offers);
                (0..k)
                    .map(|o| {
                        let profit =
                            if rng.gen_bool(0.2) { rng.gen_range(-3..8) as f64 } else { rng.gen_range(-5.0..20.0) };
                        let cost = match rng.gen_range(0..10) {
                            0 => 0.0,
                            1 => rng.gen_range(1..6) as f64,
                            _ => rng.gen_range(0.1..10.0),
                        };
                        cand(o as u32, profit, cost)
                    })
                    .collect()
            })
            .collect();
        Candidates::new(groups).unwrap()
    }

    /// The best total profit over every way to give each customer at most one offer within the budget.
    fn exhaustive(c: &Candidates, budget: f64) -> f64 {
        fn go(c: &Candidates, customer: usize, cost: f64, profit: f64, budget: f64) -> f64 {
            if customer == c.customers() {
                return profit;
            }
            let mut best = go(c, customer + 1, cost, profit, budget);
            for k in c.of(customer) {
                if cost + k.cost <= budget {
                    best = best.max(go(c, customer + 1, cost + k.cost, profit + k.profit, budget));
                }
            }
            best
        }
        go(c, 0, 0.0, 0.0, budget)
    }

    /// The Lagrangian dual at λ over the offers that fit the budget on their own.
    fn dual(c: &Candidates, budget: f64, lambda: f64) -> f64 {
        let per: f64 = (0..c.customers())
            .map(|i| {
                c.of(i).iter().filter(|k| k.cost <= budget).map(|k| k.profit - lambda * k.cost).fold(0.0, f64::max)
            })
            .sum();
        per + lambda * budget
    }

    fn check_valid(c: &Candidates, a: &Assignment) {
        assert_eq!(a.chosen.len(), c.customers());
        for (i, j) in a.chosen.iter().enumerate() {
            if let Some(j) = *j {
                assert!(c.range(i).contains(&j));
                if a.method == Method::Optimise {
                    assert!(c.candidates()[j].profit > 0.0);
                }
            }
        }
        let (p, k) = totals(c, &a.chosen);
        assert_eq!((p, k), (a.total_profit, a.total_cost));
        if let Some(b) = a.budget {
            assert!(a.total_cost <= b, "cost {} over budget {b}", a.total_cost);
        }
    }

    #[test]
    fn without_budget_equals_exhaustive_search() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..200 {
            let n = rng.gen_range(1..=6);
            let c = random_instance(&mut rng, n, 4);
            let a = optimise(&c, None).unwrap();
            check_valid(&c, &a);
            let best = exhaustive(&c, f64::INFINITY);
            assert!((a.total_profit - best).abs() <= 1e-9 * best.abs().max(1.0), "{} vs {best}", a.total_profit);
            for i in 0..n {
                // Per customer: the most profitable; on a tie the cheaper, then the first listed.
                let r = c.range(i);
                let expect =
                    r.clone().filter(|&j| c.candidates()[j].profit > 0.0).fold(None, |b: Option<usize>, j| match b {
                        Some(b) if !better(&c.candidates()[j], &c.candidates()[b]) => Some(b),
                        _ => Some(j),
                    });
                assert_eq!(a.chosen[i], expect);
            }
            assert_eq!(a.lp_bound, None);
        }
    }

    #[test]
    fn with_budget_on_tiny_instances_is_feasible_bounded_and_near_optimal() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let (mut worst, mut optimal, mut runs) = (f64::INFINITY, 0, 0);
        for _ in 0..400 {
            let n = rng.gen_range(1..=6);
            let c = random_instance(&mut rng, n, 4);
            let free = optimise(&c, None).unwrap();
            for budget in
                [0.0, rng.gen_range(0.0..5.0), free.total_cost * rng.gen_range(0.1..1.0), free.total_cost * 2.0]
            {
                let a = optimise(&c, Some(budget)).unwrap();
                check_valid(&c, &a);
                let best = exhaustive(&c, budget);
                let lp = a.lp_bound.unwrap();
                let tol = 1e-9 * best.abs().max(1.0);
                assert!(lp >= best - tol, "lp {lp} < optimum {best}");
                assert!(a.total_profit <= best + tol);
                // Half the optimum at worst: the greedy plan or the best single offer.
                assert!(a.total_profit >= 0.5 * best - tol, "{} vs optimum {best}", a.total_profit);
                // The LP bound is the Lagrangian dual's minimum, reached at the budget's price.
                let lambda = a.budget_price.unwrap();
                assert!((dual(&c, budget, lambda) - lp).abs() <= 1e-9 * lp.abs().max(1.0));
                for l in [lambda * 0.9, lambda * 1.1, lambda + 0.01] {
                    assert!(dual(&c, budget, l) >= lp - 1e-9 * lp.abs().max(1.0));
                }
                if budget >= free.total_cost * 2.0 {
                    // A budget that does not bind changes nothing.
                    assert_eq!(a.chosen, free.chosen);
                    assert_eq!(a.budget_price, Some(0.0));
                }
                if best > 0.0 {
                    worst = worst.min(a.total_profit / best);
                    runs += 1;
                    optimal += usize::from(a.total_profit >= best - tol);
                }
            }
        }
        eprintln!("tiny instances: {optimal} of {runs} optimal, worst ratio to the optimum {worst:.4}");
    }

    #[test]
    fn with_budget_single_offers_of_equal_cost_is_optimal() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..200 {
            let n = rng.gen_range(1..=10);
            let cost = rng.gen_range(0.5..5.0);
            let groups =
                (0..n).map(|_| vec![cand(0, (rng.gen_range(-5.0..20.0_f64) * 4.0).round() / 4.0, cost)]).collect();
            let c = Candidates::new(groups).unwrap();
            let budget = cost * rng.gen_range(0.0..(n as f64 + 1.0));
            let a = optimise(&c, Some(budget)).unwrap();
            check_valid(&c, &a);
            let best = exhaustive(&c, budget);
            assert!((a.total_profit - best).abs() <= 1e-9 * best.max(1.0), "{} vs {best}", a.total_profit);
        }
    }

    fn large_instance(seed: u64, customers: usize, offers: u32) -> Candidates {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let groups = (0..customers)
            .map(|_| {
                // Deeper discounts cost more and lift more, with diminishing returns and noise.
                let value = rng.gen_range(5.0..60.0);
                let responsiveness = rng.gen_range(0.0..0.3);
                let mut group = Vec::new();
                for o in 0..offers {
                    if rng.gen_bool(0.9) {
                        let depth = f64::from(o + 1) * 0.05;
                        let cost = value * depth * rng.gen_range(0.3..1.0) + 0.003;
                        let lift = value * responsiveness * depth.sqrt() * rng.gen_range(0.5..1.5);
                        group.push(cand(o, lift - cost, cost));
                    }
                }
                group
            })
            .collect();
        Candidates::new(groups).unwrap()
    }

    #[test]
    fn with_binding_budget_reaches_the_lp_bound() {
        let mut worst = f64::INFINITY;
        for (seed, share) in (0..6).zip([0.3, 0.3, 0.3, 0.05, 0.6, 0.9]) {
            let c = large_instance(seed, 5000, 4);
            let free = optimise(&c, None).unwrap();
            let budget = share * free.total_cost;
            let a = optimise(&c, Some(budget)).unwrap();
            check_valid(&c, &a);
            let lp = a.lp_bound.unwrap();
            assert!(a.budget_price.unwrap() > 0.0);
            assert!(lp < free.total_profit && lp >= a.total_profit);
            let lambda = a.budget_price.unwrap();
            assert!((dual(&c, budget, lambda) - lp).abs() <= 1e-9 * lp);
            let r = a.total_profit / lp;
            worst = worst.min(r);
            eprintln!("5,000 × 4, seed {seed}, budget at {share}: {r:.6} of the LP bound");
            assert!(r >= 0.99, "ratio {r}");
            assert!(budget - a.total_cost < 0.01 * budget, "left {} of {budget}", budget - a.total_cost);
        }
        eprintln!("5,000 × 4, budget at 5-90%: worst ratio to the LP bound {worst:.6}");
    }

    #[test]
    fn a_budget_too_small_for_anyone_gives_an_empty_plan() {
        let c =
            Candidates::new(vec![vec![cand(0, 5.0, 2.0), cand(1, 9.0, 4.0)], vec![], vec![cand(0, 3.0, 1.5)]]).unwrap();
        for budget in [0.0, 1.0] {
            let a = optimise(&c, Some(budget)).unwrap();
            assert_eq!(a.chosen, vec![None, None, None]);
            assert_eq!((a.total_profit, a.total_cost, a.lp_bound), (0.0, 0.0, Some(0.0)));
        }
        // A free offer fits any budget, even none.
        let c = Candidates::new(vec![vec![cand(0, 1.0, 0.0), cand(1, 9.0, 4.0)]]).unwrap();
        assert_eq!(optimise(&c, Some(0.0)).unwrap().chosen, vec![Some(0)]);
        // No customers at all.
        let empty = Candidates::new(vec![]).unwrap();
        assert_eq!(optimise(&empty, Some(10.0)).unwrap().chosen, vec![]);
        assert_eq!(optimise(&empty, None).unwrap().total_profit, 0.0);
        assert_eq!(everyone(&empty, 1).chosen, vec![]);
    }

    #[test]
    fn bad_inputs_are_rejected_with_a_clear_error() {
        let err = Candidates::new(vec![vec![], vec![cand(3, 1.0, -0.5)]]).unwrap_err();
        assert_eq!(err, AssignError::NegativeCost { customer: 1, offer: 3, value: -0.5 });
        assert_eq!(err.to_string(), "customer #1, offer 3: the expected cost is -0.5; a cost cannot be negative");
        let err = Candidates::new(vec![vec![cand(2, f64::NAN, 1.0)]]).unwrap_err();
        assert!(matches!(err, AssignError::NotFinite { customer: 0, offer: 2, field: "incremental profit", .. }));
        assert!(err.to_string().contains("expected incremental profit is NaN"), "{err}");
        assert!(matches!(
            Candidates::new(vec![vec![cand(0, 1.0, f64::INFINITY)]]),
            Err(AssignError::NotFinite { field: "cost", .. })
        ));
        assert!(matches!(
            Candidates::from_csr(vec![0, 2, 1], vec![cand(0, 1.0, 1.0); 1]),
            Err(AssignError::Malformed(_))
        ));
        assert!(matches!(Candidates::from_csr(vec![], vec![]), Err(AssignError::Malformed(_))));
        assert!(matches!(Candidates::from_csr(vec![0, 1], vec![]), Err(AssignError::Malformed(_))));
        let c = Candidates::new(vec![vec![cand(0, 1.0, 1.0)]]).unwrap();
        assert_eq!(optimise(&c, Some(-1.0)), Err(AssignError::BadBudget(-1.0)));
        assert!(matches!(optimise(&c, Some(f64::NAN)), Err(AssignError::BadBudget(_))));
        // An unlimited budget is no budget.
        let a = optimise(&c, Some(f64::INFINITY)).unwrap();
        assert_eq!((a.chosen, a.budget_price, a.lp_bound), (vec![Some(0)], Some(0.0), Some(1.0)));
    }

    #[test]
    fn everyone_gets_a_random_offer_split_evenly() {
        let groups =
            (0..40_000).map(|i| if i % 10 == 0 { vec![] } else { (0..4).map(|o| cand(o, -1.0, 1.0)).collect() });
        let c = Candidates::new(groups.collect()).unwrap();
        let a = everyone(&c, 42);
        check_valid(&c, &a);
        assert_eq!(a.method, Method::Everyone);
        let mut arms = [0usize; 4];
        for (i, j) in a.chosen.iter().enumerate() {
            assert_eq!(j.is_some(), i % 10 != 0);
            if let Some(j) = j {
                arms[c.candidates()[*j].offer as usize] += 1;
            }
        }
        let n = a.targeted() as f64;
        assert_eq!(n, 36_000.0);
        for arm in arms {
            assert!((arm as f64 / n - 0.25).abs() < 0.01, "{arms:?}");
        }
        // Exactly 4 equally eligible offers for 40,000 customers, as the A/B/n planner sees it.
        let c4 = Candidates::new((0..40_000).map(|_| (0..4).map(|o| cand(o, 1.0, 1.0)).collect()).collect()).unwrap();
        for seed in [1, 2, 3] {
            let mut arms = [0usize; 4];
            for j in everyone(&c4, seed).chosen.iter().flatten() {
                arms[c4.candidates()[*j].offer as usize] += 1;
            }
            for arm in arms {
                assert!((arm as f64 / 40_000.0 - 0.25).abs() < 0.01, "{arms:?}");
            }
        }
        assert_eq!(everyone(&c, 42), a);
        assert_ne!(everyone(&c, 43).chosen, a.chosen);
    }

    #[test]
    fn holdout_is_exact_seeded_and_only_from_the_assigned() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let assigned: Vec<bool> = (0..10_001).map(|_| rng.gen_bool(0.6)).collect();
        let n = assigned.iter().filter(|&&a| a).count();
        let h = holdout(&assigned, 0.1, 7);
        assert_eq!(h.len(), assigned.len());
        assert_eq!(h.iter().filter(|&&x| x).count(), (0.1 * n as f64).round() as usize);
        assert!(h.iter().zip(&assigned).all(|(&h, &a)| !h || a));
        assert_eq!(holdout(&assigned, 0.1, 7), h);
        assert_ne!(holdout(&assigned, 0.1, 8), h);
        // A larger share holds out the same customers and more.
        let h2 = holdout(&assigned, 0.2, 7);
        assert!(h.iter().zip(&h2).all(|(&a, &b)| !a || b));
        assert_eq!(holdout(&assigned, 0.0, 7), vec![false; assigned.len()]);
        assert_eq!(holdout(&assigned, 1.0, 7), assigned);
        assert_eq!(holdout(&assigned, f64::NAN, 7), vec![false; assigned.len()]);
        assert_eq!(holdout(&[], 0.5, 7), Vec::<bool>::new());
        assert_eq!(holdout(&[true, false, true], 0.5, 7).iter().filter(|&&x| x).count(), 1);
        // Uniform: each assigned customer is held out about share of the time over seeds.
        let small = [true, false, true, true, true];
        let mut counts = [0usize; 5];
        for seed in 0..8000 {
            for (i, &x) in holdout(&small, 0.5, seed).iter().enumerate() {
                counts[i] += usize::from(x);
            }
        }
        assert_eq!(counts[1], 0);
        for i in [0, 2, 3, 4] {
            assert!((counts[i] as f64 / 8000.0 - 0.5).abs() < 0.03, "{counts:?}");
        }
    }

    #[test]
    fn same_plan_on_one_and_three_threads() {
        let c = large_instance(9, 30_000, 4);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let free = optimise(&c, None).unwrap();
                let budget = 0.3 * free.total_cost;
                (free, optimise(&c, Some(budget)).unwrap(), everyone(&c, 11))
            })
        };
        let one = run(1);
        let three = run(3);
        assert_eq!(one, three);
        assert_eq!(one.1.total_profit.to_bits(), three.1.total_profit.to_bits());
    }

    #[test]
    fn explain_says_why_in_one_sentence() {
        let names = ["10% off", "20% off", "Free shipping"];
        let c = Candidates::new(vec![
            // 0: both discounts; 20% off adds 3.10 for 9.00 more, a return of 0.34.
            vec![cand(0, 5.0, 2.0), cand(1, 8.1, 11.0)],
            // 1: returns 1.3 per unit: the split customer, at the cut-off.
            vec![cand(2, 13.0, 10.0)],
            // 2: returns 1.4 per unit: gets budget.
            vec![cand(0, 14.0, 10.0)],
            // 3: returns 0.8 per unit: below the cut-off.
            vec![cand(1, 8.0, 10.0)],
            // 4: nothing profitable.
            vec![cand(0, -0.4, 1.0), cand(1, -2.0, 3.0)],
            // 5: eligible for nothing.
            vec![],
            // 6: profitable only at a cost above the whole budget.
            vec![cand(1, 50.0, 13.0)],
            // 7: three offers, the best is free shipping.
            vec![cand(0, 1.0, 0.0), cand(1, 2.0, 0.5), cand(2, 12.3, 0.5)],
        ])
        .unwrap();
        let a = optimise(&c, Some(12.5)).unwrap();
        assert_eq!(a.budget_price, Some(1.3));
        let say = |i: usize| explain(&c, &a, i, &names).sentence;
        assert_eq!(
            say(0),
            "10% off instead of 20% off: 20% off would add 3.10 of profit for 9.00 more cost, below the budget's cut-off of 1.3 per unit"
        );
        assert_eq!(say(1), "none: the budget left over (0.00) does not cover its cheapest profitable offer (10.00)");
        assert_eq!(say(2), "chosen: 10% off, its only offer, expected incremental profit 14.00");
        assert_eq!(
            say(3),
            "none: the budget went to customers who return more per unit of cost (this one returns 0.8 per 1 of cost; the cut-off is 1.3)"
        );
        assert_eq!(say(4), "none: no offer is expected to make a profit (best −0.40)");
        assert_eq!(say(5), "none: not eligible for any offer");
        assert_eq!(
            say(6),
            "none: every profitable offer costs more than the whole budget (cheapest 13.00, budget 12.50)"
        );
        assert_eq!(say(7), "chosen: Free shipping, the highest expected incremental profit (12.30) among 3 offers");
        let e = explain(&c, &a, 0, &names);
        assert_eq!(e.chosen, Some(0));
        assert_eq!(e.options.iter().map(|o| o.chosen).collect::<Vec<_>>(), vec![true, false]);
        assert!(matches!(e.reason, Reason::CheaperBelowCutOff { instead_of: 1, .. }));
        // Unknown customers and unnamed offers do not panic.
        assert_eq!(explain(&c, &a, 99, &names).sentence, "none: not eligible for any offer");
        assert!(explain(&c, &a, 7, &[] as &[&str]).sentence.starts_with("chosen: offer 2,"));

        // Left over budget too small for the upgrade, and the A/B/n wording.
        let c = Candidates::new(vec![vec![cand(0, 5.0, 2.0), cand(1, 8.0, 6.0)], vec![cand(2, 20.0, 4.0)]]).unwrap();
        let a = optimise(&c, Some(7.0)).unwrap();
        assert_eq!(a.budget_price, Some(0.75));
        assert_eq!(
            explain(&c, &a, 0, &names).sentence,
            "10% off instead of 20% off: 20% off would add 3.00 of profit for 4.00 more cost, more than the budget had left (1.00)"
        );
        let a = optimise(&c, Some(3.0)).unwrap();
        let e = explain(&c, &a, 0, &names);
        assert!(matches!(e.reason, Reason::BestWithinBudget { instead_of: 1, .. }), "{e:?}");
        assert!(
            e.sentence.starts_with("chosen: 10% off, the most profitable offer within the budget"),
            "{}",
            e.sentence
        );
        let a = everyone(&c, 1);
        assert!(explain(&c, &a, 0, &names).sentence.starts_with("chosen at random for the A/B/n test: "));
        let a = optimise(&c, None).unwrap();
        assert_eq!(
            explain(&c, &a, 0, &names).sentence,
            "chosen: 20% off, the highest expected incremental profit (8.00) among 2 offers"
        );
    }

    #[test]
    fn number_formats() {
        assert_eq!(money(-0.4), "−0.40");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(12.3), "12.30");
        assert_eq!(ratio(0.8), "0.8");
        assert_eq!(ratio(0.034), "0.034");
        assert_eq!(ratio(250.4), "250");
        assert_eq!(ratio(f64::INFINITY), "∞");
    }
}
