//! The Simulation screen: run the campaign's Monte Carlo forecast (progress
//! and Cancel in the status bar) and read it — tiles with 90% intervals, the
//! histogram of incremental profit with its band and break-even line, per
//! offer, the holdout's power, and what the forecast hangs on (tornado).

use egui_plot::{Bar, BarChart, Legend, Plot, VLine};

use super::super::commands::EXPORT;
use super::super::dialogs::DialogPurpose;
use super::super::widgets::{empty_state, row_names, screen_title, section, settings_panel, stale_note, stat};
use super::super::{Command, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::campaign::simulate::metrics::metric;
use crate::core::campaign::simulate::{GroupKind, Outlook};
use crate::core::format;
use crate::core::pipeline::{Stage, StageKey};
use crate::core::stages::campaigns::{CampaignOutlook, Distribution, Forecasting, PartialForecast, Planning};

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Simulation",
    busy_with: &[Forecasting::NAME],
    summary: |app| app.flow.get::<Forecasting>().map(|o| format!("profit {}", format::money(o.profit.spread.mean))),
    show,
    on_result: |_: &mut PromoStudioApp, _: StageKey, _: f64| {},
    on_demand: Some(|app| {
        let done = app.flow.get::<Forecasting>().is_some();
        if !done && !app.is_running::<Forecasting>() && app.current_plan().is_some() {
            app.push(Command::run::<Forecasting>());
        }
        done
    }),
};

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    settings_panel(ui, "simulation-settings", |ui| settings(app, ui));
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Simulation",
            "What the campaign will probably earn and cost, and how sure that is: every figure with its 90% interval.",
        );
        let result = app.flow.get::<Forecasting>().cloned();
        let so_far = app.jobs.partial(Forecasting::NAME).and_then(|p| p.downcast::<PartialForecast>().ok());
        match result {
            None if app.is_running::<Forecasting>() => match so_far {
                Some(p) => {
                    ui.label(format!(
                        "Simulating: {} of {} runs so far",
                        format::count(p.runs as f64),
                        format::count(p.of_runs as f64)
                    ));
                    section(ui, "Incremental profit over the runs so far");
                    histogram(ui, "profit-so-far", &p.profit, "Incremental profit over the horizon (shop currency)");
                }
                None => empty_state(ui, "Simulating…"),
            },
            None if app.dataset().is_none() => empty_state(ui, "Load data on the Data screen first."),
            None => empty_state(ui, "Press “Run simulation” on the left."),
            Some(o) => {
                stale_note(ui, app.flow.is_stale::<Forecasting>(), "results");
                let pinned = app.view.pinned.clone().filter(|p| !std::sync::Arc::ptr_eq(p, &o));
                egui::ScrollArea::vertical().show(ui, |ui| {
                    if let Some(p) = &pinned {
                        scenarios(ui, p, &o);
                    }
                    results(ui, &o);
                });
            }
        }
    });
}

fn settings(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "Campaign");
    match app.flow.get::<Planning>() {
        Some(p) => ui.label(format!("“{}”", p.campaign.name)),
        None => ui.label(format!("“{}”", app.draft.campaign().name)),
    };
    ui.weak("The campaign on the Promotions screen: edit it there, then run again.");
    let choices = app.flow.choices.of_mut::<Forecasting>();
    section(ui, "Runs");
    ui.add(egui::Slider::new(&mut choices.runs, 100..=5000).logarithmic(true).text("runs"))
        .on_hover_text("Monte Carlo runs: each redraws the response from its uncertainty and every customer's outcome");
    ui.horizontal(|ui| {
        ui.label("Seed");
        ui.add(egui::DragValue::new(&mut choices.seed)).accessible_name("Simulation seed");
    });
    ui.add_space(theme::SPACE);
    let running = app.is_running::<Forecasting>();
    let planned = app.current_plan().is_some();
    if ui.add_enabled(!running && planned, egui::Button::new("Run simulation")).clicked() {
        app.push(Command::run::<Forecasting>());
    }
    ui.weak("Progress and Cancel are in the status bar.");
    section(ui, "Scenarios");
    let current = app.flow.get::<Forecasting>().cloned();
    if ui
        .add_enabled(current.is_some(), egui::Button::new("Pin this result"))
        .on_hover_text("Keep this forecast to compare the next run with (same seed: the same random numbers)")
        .clicked()
    {
        app.view.pinned = current;
    }
    if app.view.pinned.is_some() && ui.button("Unpin").clicked() {
        app.view.pinned = None;
    }
    export(app, ui);
}

/// The plan as a file for the sending tool, and the report of the forecast.
fn export(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "Export");
    let free = !app.is_dialog_open();
    let busy = app.jobs.is_running(EXPORT);
    ui.label("The plan (customer → offer → channel → products)");
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut app.view.plan_path)
                .hint_text("plan.csv or plan.parquet")
                .desired_width(170.0),
        )
        .accessible_name("Plan file");
        if ui.add_enabled(free, egui::Button::new("…")).on_hover_text("Choose where to save the plan").clicked() {
            app.open_dialog(DialogPurpose::SavePlan, ui.ctx());
        }
    });
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut app.view.key_path).hint_text("key file (optional)").desired_width(170.0))
            .on_hover_text("With a key file (16 bytes or more), customer ids become keyed hashes: the same for the same key. The key is never written.")
            .accessible_name("Pseudonymisation key file");
        if ui.add_enabled(free, egui::Button::new("…")).on_hover_text("Choose your key file").clicked() {
            app.open_dialog(DialogPurpose::ChooseKey, ui.ctx());
        }
    });
    let planned = app.current_plan().is_some();
    let path = app.view.plan_path.trim().to_string();
    let key = app.view.key_path.trim().to_string();
    let label = if key.is_empty() { "Export plan" } else { "Export plan, ids pseudonymised" };
    if ui.add_enabled(planned && !busy && !path.is_empty(), egui::Button::new(label)).clicked() {
        let key_file = Some(std::path::PathBuf::from(key)).filter(|k| !k.as_os_str().is_empty());
        app.push(Command::ExportPlan { path: path.into(), key_file });
    }
    ui.add_space(theme::SPACE);
    ui.label("The report (one HTML file with the forecast)");
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut app.view.report_path).hint_text("report.html").desired_width(170.0))
            .accessible_name("Report file");
        if ui.add_enabled(free, egui::Button::new("…")).on_hover_text("Choose where to save the report").clicked() {
            app.open_dialog(DialogPurpose::SaveReport, ui.ctx());
        }
    });
    let simulated = app.flow.get::<Forecasting>().is_some();
    let path = app.view.report_path.trim().to_string();
    if ui
        .add_enabled(simulated && !busy && !path.is_empty(), egui::Button::new("Export report"))
        .on_disabled_hover_text("Run the simulation first: the report shows its forecast")
        .clicked()
    {
        app.push(Command::ExportReport { path: path.into() });
    }
}

/// The pinned forecast beside the current one, with the share of runs in
/// which the current campaign's incremental profit beats the pinned one's.
fn scenarios(ui: &mut egui::Ui, pinned: &CampaignOutlook, current: &CampaignOutlook) {
    section(ui, "Scenarios side by side");
    let profit = metric("incremental_profit");
    egui::Grid::new("scenarios").num_columns(5).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        for title in ["Scenario", "Targeted", "Incremental profit (90% interval)", "Costs", "Runs, seed"] {
            ui.strong(title);
        }
        ui.end_row();
        for (label, o) in [("Pinned", pinned), ("Current", current)] {
            let f = &o.outlook.forecast;
            let p = f.overall().spread(profit);
            ui.label(format!("{label}: {}", o.campaign.name));
            ui.label(format::count(f.targeted as f64));
            ui.label(format!("{}  [{}, {}]", format::money(p.mean), format::money(p.p5), format::money(p.p95)));
            ui.label(format::money(f.overall().spread(metric("cost")).mean));
            ui.label(format!("{}, {}", f.runs(), f.seed));
            ui.end_row();
        }
    });
    let (a, b) = (&current.outlook.forecast, &pinned.outlook.forecast);
    if a.seed == b.seed && a.customers == b.customers {
        ui.label(format!(
            "The current campaign beats the pinned one on incremental profit in {} of the runs (common random numbers).",
            format::percent(a.beats(b))
        ));
    } else {
        ui.weak(
            "Different seeds or customers: the runs do not share random numbers, so no head-to-head share is given.",
        );
    }
}

fn results(ui: &mut egui::Ui, o: &CampaignOutlook) {
    let f = &o.outlook.forecast;
    ui.label(format!(
        "“{}” ({}): {} runs, seed {}; {} of {} customers targeted, {} treated and {} held out.",
        o.campaign.name,
        "as designed on the Promotions screen",
        f.runs(),
        f.seed,
        format::count(f.targeted as f64),
        format::count(f.customers as f64),
        format::count(f.treated as f64),
        format::count(f.control as f64),
    ));
    ui.weak(format!("Response: {}.", o.response));
    for note in &o.notes {
        ui.colored_label(theme::WARNING, note);
    }
    ui.add_space(theme::SPACE);
    let overall = f.overall();
    let tiles: [Tile; 5] = [
        ("incremental profit", "incremental_profit", format::money),
        ("incremental revenue", "incremental_revenue", format::money),
        ("incremental conversions", "incremental_conversions", format::count),
        ("costs (discounts + messages)", "cost", format::money),
        ("return on cost", "roi", |x| format::decimal(x, 2)),
    ];
    ui.columns(tiles.len(), |columns| {
        for (ui, (caption, name, fmt)) in columns.iter_mut().zip(tiles) {
            let s = overall.spread(metric(name));
            stat(ui, &fmt(s.mean), &format!("{caption}\n90%: {} to {}", fmt(s.p5), fmt(s.p95)));
        }
    });
    section(ui, "Incremental profit over the runs");
    histogram(ui, "profit-histogram", &o.profit, "Incremental profit over the horizon (shop currency)");
    section(ui, "Incremental revenue over the runs");
    histogram(ui, "revenue-histogram", &o.revenue, "Incremental revenue over the horizon (shop currency)");
    section(ui, "Per offer");
    group_table(ui, &o.outlook, GroupKind::Offer);
    section(ui, "Per segment");
    group_table(ui, &o.outlook, GroupKind::Segment);
    section(ui, "The holdout as an A/B test");
    holdout(ui, &o.outlook);
    section(ui, "What the forecast hangs on");
    tornado(ui, &o.outlook);
}

/// A tile: its caption, the metric it shows, and how its numbers are written.
type Tile = (&'static str, &'static str, fn(f64) -> String);

/// A metric's histogram over the runs, with its 90% interval, the break-even line and the mean.
fn histogram(ui: &mut egui::Ui, id: &str, d: &Distribution, x_label: &str) {
    let (s, h) = (&d.spread, &d.histogram);
    let bars: Vec<Bar> = h
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| Bar::new(h.lo + (i as f64 + 0.5) * h.width, *c as f64).width(h.width * 0.95))
        .collect();
    Plot::new(id)
        .height(220.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .x_axis_label(x_label)
        .y_axis_label("Runs")
        .include_y(0.0)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("Runs", bars).color(theme::SEGMENT_COLOURS[0]));
            plot.vline(VLine::new("90% interval", s.p5).color(theme::WARNING).width(2.0));
            plot.vline(VLine::new("90% interval", s.p95).color(theme::WARNING).width(2.0));
            plot.vline(VLine::new("Break-even", 0.0).color(theme::ERROR).width(1.5));
            plot.vline(VLine::new("Mean", s.mean).color(theme::NO_PURCHASE_COLOUR).width(1.5));
        });
}

/// Per offer or per segment: who is in it and what it brings, with 90% intervals.
fn group_table(ui: &mut egui::Ui, o: &Outlook, kind: GroupKind) {
    let first = if kind == GroupKind::Offer { "Offer" } else { "Segment" };
    let rows: Vec<_> = o.forecast.groups.iter().filter(|g| g.kind == kind && g.treated + g.control > 0).collect();
    if rows.is_empty() {
        ui.weak("No one targeted here.");
        return;
    }
    egui::Grid::new(("groups", first)).num_columns(5).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        for title in [first, "Treated", "Held out", "Incremental profit (90% interval)", "Incremental conversions"] {
            ui.strong(title);
        }
        ui.end_row();
        for g in rows {
            let p = g.spread(metric("incremental_profit"));
            let c = g.spread(metric("incremental_conversions"));
            ui.label(&g.name);
            ui.label(format::count(g.treated as f64));
            ui.label(format::count(g.control as f64));
            ui.label(format!("{}  [{}, {}]", format::money(p.mean), format::money(p.p5), format::money(p.p95)));
            ui.label(format!("{}  [{}, {}]", format::count(c.mean), format::count(c.p5), format::count(c.p95)));
            ui.end_row();
        }
    });
}

fn holdout(ui: &mut egui::Ui, o: &Outlook) {
    let h = &o.holdout;
    let share = |q: Option<f64>| q.map_or_else(|| "more than half (not reachable)".to_string(), format::percent);
    ui.label(format!(
        "{} held out against {} treated: power {:.2} to detect the expected conversion lift ({:+.2} points) at α = 0.05; \
         the smallest lift detected with 80% power is {:.2} points; 80% power needs a holdout of {}.",
        format::count(h.control as f64),
        format::count(h.treated as f64),
        h.power_conversion,
        (h.conversion_treated - h.conversion_control) * 100.0,
        h.mde_conversion * 100.0,
        share(h.holdout_for_80_conversion)
    ));
    ui.label(format!(
        "Spend per customer: power {:.2} for the expected lift of {}; smallest detectable {}; 80% power needs {}.",
        h.power_spend,
        format::money(h.spend_lift),
        format::money(h.mde_spend),
        share(h.holdout_for_80_spend)
    ));
}

/// Each parameter's low and high end as bars from the expected profit.
fn tornado(ui: &mut egui::Ui, o: &Outlook) {
    let n = o.swings.len();
    if n == 0 {
        ui.weak("No parameter to vary.");
        return;
    }
    let base = o.expected_profit;
    let y = |i: usize| (n - 1 - i) as f64;
    let bar = |i: usize, end: f64, name: &str| {
        Bar::new(y(i), end - base).base_offset(base).width(0.6).name(name).horizontal()
    };
    let lows: Vec<Bar> = o.swings.iter().enumerate().map(|(i, s)| bar(i, s.profit_at_low, &s.parameter)).collect();
    let highs: Vec<Bar> = o.swings.iter().enumerate().map(|(i, s)| bar(i, s.profit_at_high, &s.parameter)).collect();
    let names: Vec<String> = o.swings.iter().map(|s| s.parameter.replace('_', " ")).collect();
    ui.weak(format!(
        "Expected incremental profit {} at the estimates; each bar moves one parameter to the ends of its range.",
        format::money(base)
    ));
    Plot::new("tornado")
        .height(40.0 + 26.0 * n as f32)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .x_axis_label("Expected incremental profit (shop currency)")
        .y_axis_formatter(row_names(names))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .include_y(-0.6)
        .include_y(n as f64 - 0.4)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("At the low end", lows).color(theme::WARNING));
            plot.bar_chart(BarChart::new("At the high end", highs).color(theme::SEGMENT_COLOURS[0]));
            plot.vline(VLine::new("Estimate", base).color(theme::NO_PURCHASE_COLOUR));
        });
}
