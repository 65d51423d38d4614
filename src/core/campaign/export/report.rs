//! The campaign report: one self-contained HTML file (inline CSS and SVG, no
//! scripts, no external files) with the campaign, its forecast and what the
//! forecast rests on, readable in any browser and printable.

use std::fmt::Write;

use super::super::file::Campaign;
use super::super::simulate::fairness::GroupFairness;
use super::super::simulate::metrics::{Histogram, Spread, metric};
use super::super::simulate::power::HoldoutPower;
use super::super::simulate::sensitivity::Swing;
use super::super::simulate::{Forecast, GroupKind, Outlook};

/// Everything the report shows.
pub struct ReportInputs<'a> {
    pub campaign: &'a Campaign,
    pub forecast: &'a Forecast,
    pub expected_profit: f64,
    pub holdout: &'a HoldoutPower,
    pub swings: &'a [Swing],
    pub fairness: &'a [GroupFairness],
    /// Other campaigns simulated on the same customers and random numbers.
    pub scenarios: &'a [(String, Forecast)],
    /// Where the response came from, in words.
    pub response: String,
    pub notes: &'a [String],
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;margin:32px auto;max-width:1040px;color:#1f2328;padding:0 16px}\
h1{font-size:26px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\
.sub{color:#57606a;margin:0 0 16px}.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}\
.tile{border:1px solid #d0d7de;border-radius:8px;padding:10px 12px}.tile b{font-size:20px;display:block}.tile span{color:#57606a;font-size:13px}\
table{border-collapse:collapse;width:100%;font-size:14px}th,td{text-align:right;padding:4px 8px;border-bottom:1px solid #eaeef2}\
th:first-child,td:first-child,td.words{text-align:left}th{background:#f6f8fa}.flag{color:#b35900}.note{color:#57606a;font-size:13px}\
svg text{font-family:inherit;font-size:12px;fill:#1f2328}";

/// HTML-escapes text.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A money-like amount with thousands separators and a typographic minus.
fn amount(x: f64) -> String {
    crate::core::format::count(x).replace('-', "−")
}

fn interval(s: &Spread, f: fn(f64) -> String) -> String {
    format!("{} <span class=note>[{} to {}]</span>", f(s.mean), f(s.p5), f(s.p95))
}

/// The report of a campaign's outlook (`simulate::outlook`), as one HTML document.
pub fn outlook_report(campaign: &Campaign, outlook: &Outlook, response: &str, notes: &[String]) -> String {
    campaign_report(&ReportInputs {
        campaign,
        forecast: &outlook.forecast,
        expected_profit: outlook.expected_profit,
        holdout: &outlook.holdout,
        swings: &outlook.swings,
        fairness: &outlook.fairness,
        scenarios: &outlook.scenarios,
        response: response.to_string(),
        notes,
    })
}

/// The report as one HTML document.
pub fn campaign_report(r: &ReportInputs) -> String {
    let f = r.forecast;
    let overall = f.overall();
    let spread = |name: &str| overall.spread(metric(name));
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>{} — campaign report</title><style>{STYLE}</style></head><body>",
        esc(&r.campaign.name)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class=sub>Forecast over {} days from {} simulated runs (seed {}); {} of {} customers targeted, \
         {} treated and {} held out as the control. Response: {}.</p>",
        esc(&r.campaign.name),
        r.campaign.horizon_days,
        f.runs(),
        f.seed,
        amount(f.targeted as f64),
        amount(f.customers as f64),
        amount(f.treated as f64),
        amount(f.control as f64),
        esc(&r.response)
    );
    h.push_str("<div class=tiles>");
    let roi = |x: f64| format!("{x:.2}").replace('-', "−");
    for (label, name, fmt) in [
        ("Incremental profit", "incremental_profit", amount as fn(f64) -> String),
        ("Incremental revenue", "incremental_revenue", amount),
        ("Incremental conversions", "incremental_conversions", amount),
        ("Costs (discounts + messages)", "cost", amount),
        ("Return on cost", "roi", roi),
    ] {
        let s = spread(name);
        let _ = write!(
            h,
            "<div class=tile><b>{}</b><span>{label}<br>90% interval {} to {}</span></div>",
            fmt(s.mean),
            fmt(s.p5),
            fmt(s.p95)
        );
    }
    h.push_str("</div>");

    h.push_str("<h2>Incremental profit over the runs</h2>");
    let profits: Vec<f64> = overall.runs.iter().map(|m| m[metric("incremental_profit")]).collect();
    h.push_str(&histogram_svg(&profits, &spread("incremental_profit"), "Incremental profit (shop currency)"));
    h.push_str(
        "<p class=note>Each bar counts the runs whose incremental profit fell in its range; the shaded band holds the \
         middle 90% of runs; the dashed line is break-even. Each run redraws the response from its uncertainty and \
         every customer's outcome, so the band is what a real campaign of this size could show.</p>",
    );

    for (kind, title, key) in [(GroupKind::Offer, "Per offer", "Offer"), (GroupKind::Segment, "Per segment", "Segment")]
    {
        let _ = write!(
            h,
            "<h2>{title}</h2><table><tr><th>{key}</th><th>Treated</th><th>Held out</th><th>Incremental profit (90% interval)</th>\
             <th>Incremental conversions</th><th>Discounts</th></tr>"
        );
        for g in f.groups.iter().filter(|g| g.kind == kind && g.treated + g.control > 0) {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.name),
                amount(g.treated as f64),
                amount(g.control as f64),
                interval(&g.spread(metric("incremental_profit")), amount),
                interval(&g.spread(metric("incremental_conversions")), amount),
                amount(g.spread(metric("discount_cost")).mean)
            );
        }
        h.push_str("</table>");
    }

    let p = r.holdout;
    let share = |q: Option<f64>| {
        q.map_or_else(|| "more than half of the targeted (not reachable)".into(), |q| format!("{:.1}%", q * 100.0))
    };
    let _ = write!(
        h,
        "<h2>The holdout as an A/B test</h2><p>With {} held out against {} treated, the power to detect the expected \
         conversion lift ({:+.2} points, from {:.2}% to {:.2}%) at α = 0.05 is <b>{:.2}</b>; the smallest lift detected \
         with 80% power is {:.2} points; 80% power needs a holdout of {}. For spend per customer (expected lift {:.2}, \
         standard deviation {:.2}): power {:.2}, smallest detectable {:.2}, 80% power needs {}.</p>",
        amount(p.control as f64),
        amount(p.treated as f64),
        (p.conversion_treated - p.conversion_control) * 100.0,
        p.conversion_control * 100.0,
        p.conversion_treated * 100.0,
        p.power_conversion,
        p.mde_conversion * 100.0,
        share(p.holdout_for_80_conversion),
        p.spend_lift,
        p.spend_sd,
        p.power_spend,
        p.mde_spend,
        share(p.holdout_for_80_spend)
    );

    let _ = write!(
        h,
        "<h2>What the forecast hangs on</h2><p>Expected incremental profit at the estimates: <b>{}</b>. Each bar: the \
         expected profit with one parameter at each end of its range, the others at their values.</p>",
        amount(r.expected_profit)
    );
    h.push_str(&tornado_svg(r.swings, r.expected_profit));
    h.push_str(
        "<table><tr><th>Parameter</th><th>Range</th><th>Profit at low</th><th>Profit at high</th><th>Source</th></tr>",
    );
    for s in r.swings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} to {}</td><td>{}</td><td>{}</td><td class=words>{}</td></tr>",
            esc(&s.parameter),
            s.low,
            s.high,
            amount(s.profit_at_low),
            amount(s.profit_at_high),
            esc(&s.source)
        );
    }
    h.push_str("</table>");

    h.push_str(
        "<h2>Fairness</h2><table><tr><th>Group</th><th>Customers</th><th>Targeted</th><th>Discount per customer</th>\
         <th>Discount per targeted</th><th>Uplift per customer</th><th>Flag</th></tr>",
    );
    for g in r.fairness {
        let _ = write!(
            h,
            "<tr><td>{}: {}</td><td>{}</td><td>{:.0}%</td><td>{:.2}</td><td>{:.2}</td><td>{:+.2} pts</td><td class=\"flag words\">{}</td></tr>",
            esc(&g.by),
            esc(&g.group),
            amount(g.customers as f64),
            g.share_targeted * 100.0,
            g.discount_per_customer,
            g.discount_per_targeted,
            g.uplift_per_customer * 100.0,
            esc(&g.flags.join("; "))
        );
    }
    h.push_str("</table>");

    if !r.scenarios.is_empty() {
        h.push_str(
            "<h2>Scenarios</h2><table><tr><th>Campaign</th><th>Targeted</th><th>Incremental profit (90% interval)</th>\
             <th>P(this campaign beats it)</th></tr>",
        );
        let _ = write!(
            h,
            "<tr><td>{} (this)</td><td>{}</td><td>{}</td><td></td></tr>",
            esc(&r.campaign.name),
            amount(f.targeted as f64),
            interval(&spread("incremental_profit"), amount)
        );
        for (name, other) in r.scenarios {
            let _ = write!(
                h,
                "<tr><td>{} <span class=note>{}</span></td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
                esc(&other.campaign),
                esc(name),
                amount(other.targeted as f64),
                interval(&other.overall().spread(metric("incremental_profit")), amount),
                f.beats(other)
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2>The offers</h2><table><tr><th>Offer</th><th>Kind</th><th>Value</th><th>Minimum spend</th><th>Channel</th><th>Response</th></tr>");
    for o in &r.campaign.offers {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&o.name),
            esc(o.kind.as_str()),
            o.value.map_or_else(String::new, |v| v.to_string()),
            o.min_spend.map_or_else(String::new, |v| v.to_string()),
            esc(&o.channel),
            esc(o.response.as_deref().unwrap_or("default assumptions"))
        );
    }
    h.push_str("</table>");
    for note in r.notes {
        let _ = write!(h, "<p class=note>Note: {}</p>", esc(note));
    }
    h.push_str("<p class=note>Made by Promo Studio. Definitions: DATA.md §7–§9 of the project.</p></body></html>\n");
    h
}

/// Axis ticks: about five round numbers across [lo, hi].
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| span / s <= 6.0).unwrap_or(magnitude * 10.0);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 {
        out.push(t);
        t += step;
    }
    out
}

/// A histogram of `values` with its 90% band and the break-even line.
fn histogram_svg(values: &[f64], s: &Spread, x_label: &str) -> String {
    let (w, h, left, bottom, top) = (960.0, 300.0, 56.0, 44.0, 12.0);
    let histogram = Histogram::of(values, 40);
    let (lo, hi, width, counts) = (histogram.lo, histogram.hi(), histogram.width, &histogram.counts);
    let most = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let x = |v: f64| left + (v - lo) / (hi - lo).max(1e-9) * (w - left - 10.0);
    let y = |c: f64| top + (1.0 - c / most) * (h - top - bottom);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"histogram of {}\">",
        esc(x_label)
    );
    let _ = write!(
        svg,
        "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#dbeafe\"/>",
        x(s.p5),
        (x(s.p95) - x(s.p5)).max(1.0),
        h - top - bottom
    );
    for (i, c) in counts.iter().enumerate() {
        let x0 = x(lo + i as f64 * width);
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#3b6ea8\"/>",
            x0 + 0.5,
            y(*c as f64),
            (x(lo + (i + 1) as f64 * width) - x0 - 1.0).max(0.5),
            h - bottom - y(*c as f64)
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
        x(0.0),
        h - bottom
    );
    let _ = write!(svg, "<text x=\"{:.1}\" y=\"{}\" fill=\"#c0392b\">break-even</text>", x(0.0) + 4.0, top + 12.0);
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#1f2328\" stroke-width=\"1.5\"/>",
        x(s.mean),
        h - bottom
    );
    let _ = write!(svg, "<text x=\"{:.1}\" y=\"{}\">mean {}</text>", x(s.mean) + 4.0, top + 28.0, amount(s.mean));
    let _ =
        write!(svg, "<line x1=\"{left}\" x2=\"{}\" y1=\"{1}\" y2=\"{1}\" stroke=\"#57606a\"/>", w - 10.0, h - bottom);
    for t in ticks(lo, hi) {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#57606a\"/><text x=\"{0:.1}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>",
            x(t),
            h - bottom,
            h - bottom + 5.0,
            h - bottom + 18.0,
            amount(t)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (w + left) / 2.0,
        h - 6.0,
        esc(x_label)
    );
    for count in [0.0, most] {
        let _ =
            write!(svg, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{count}</text>", left - 6.0, y(count) + 4.0);
    }
    let _ = write!(
        svg,
        "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {0})\" text-anchor=\"middle\">runs</text>",
        (h - bottom + top) / 2.0
    );
    svg.push_str("</svg>");
    svg
}

/// The tornado: per parameter, a bar from its low-end to its high-end profit, around the estimate.
fn tornado_svg(swings: &[Swing], base: f64) -> String {
    if swings.is_empty() {
        return String::new();
    }
    let (w, row, left, top) = (960.0, 26.0, 230.0, 8.0);
    let h = top + row * swings.len() as f64 + 40.0;
    let lo = swings.iter().map(|s| s.profit_at_low.min(s.profit_at_high)).fold(base, f64::min);
    let hi = swings.iter().map(|s| s.profit_at_low.max(s.profit_at_high)).fold(base, f64::max);
    let x = |v: f64| left + (v - lo) / (hi - lo).max(1e-9) * (w - left - 20.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"sensitivity of the expected profit\">"
    );
    for (i, s) in swings.iter().enumerate() {
        let yy = top + i as f64 * row;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            yy + 16.0,
            esc(&s.parameter)
        );
        for (end, colour) in [(s.profit_at_low, "#e07b39"), (s.profit_at_high, "#3b6ea8")] {
            let (a, b) = (x(base.min(end)), x(base.max(end)));
            let _ = write!(
                svg,
                "<rect x=\"{a:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\"/>",
                yy + 4.0,
                (b - a).max(1.0),
                row - 8.0
            );
        }
    }
    let bottom = top + row * swings.len() as f64;
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.1}\" stroke=\"#1f2328\"/>",
        x(base),
        bottom
    );
    for t in ticks(lo, hi) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(t),
            bottom + 16.0,
            amount(t)
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">Expected incremental profit (orange: parameter at its low end; blue: at its high end)</text>",
        (w + left) / 2.0,
        bottom + 34.0
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped_and_signed() {
        assert_eq!(amount(1234567.4), "1,234,567");
        assert_eq!(amount(-950.0), "−950");
        assert_eq!(amount(0.2), "0");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(-3.0, 7.0), vec![-2.0, 0.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<b>\"10% & more\""), "&lt;b&gt;&quot;10% &amp; more&quot;");
    }
}
