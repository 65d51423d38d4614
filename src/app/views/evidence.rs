//! The Past campaign screen: what a finished randomised campaign did, arm by
//! arm against its control, with 95% intervals, and the response model
//! calibrated on it that plans can use.

use egui_plot::{Bar, BarChart, Legend, Line, LineStyle, Plot, PlotPoints};

use super::super::widgets::{empty_state, row_names, screen_title, section, stat};
use super::super::{Command, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::campaign::calibrate::ObservedLifts;
use crate::core::campaign::calibrate::report::model_notes;
use crate::core::format;
use crate::core::pipeline::{Stage, StageKey};
use crate::core::stages::campaigns::{Calibration, CampaignEvidence};

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Past campaign",
    busy_with: &[Calibration::NAME],
    summary: |app| {
        app.flow
            .get::<Calibration>()
            .and_then(|e| e.as_ref().as_ref())
            .map(|e| format!("{} offers tested", e.response.arms.len() - 1))
    },
    show,
    on_result: |_: &mut PromoStudioApp, _: StageKey, _: f64| {},
    on_demand: None,
};

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Past campaign",
            "What a finished randomised campaign really did, arm by arm against its control, and the response model learnt from it.",
        );
        let evidence = app.flow.get::<Calibration>().cloned();
        match evidence.as_deref() {
            None if app.is_running::<Calibration>() => empty_state(ui, "Calibrating…"),
            None if app.dataset().is_none() => empty_state(ui, "Load data on the Data screen first."),
            None | Some(None) => empty_state(
                ui,
                "No past campaign to learn from: the bundled shop has one; for your own, run `promo-studio calibrate` on its results.",
            ),
            Some(Some(evidence)) => {
                ui.horizontal(|ui| {
                    let use_it = ui
                        .button("Use as the response")
                        .on_hover_text("The campaign's offers named like a tested arm use that arm's calibrated response");
                    if use_it.clicked() {
                        app.push(Command::UseCalibratedArms);
                    }
                    ui.weak("Each offer of the campaign on the Promotions screen with an arm's name forecasts with what that arm did.");
                });
                egui::ScrollArea::vertical().show(ui, |ui| results(ui, evidence));
            }
        }
    });
}

fn results(ui: &mut egui::Ui, e: &CampaignEvidence) {
    let o = &e.response.observed;
    let tiles = [
        (format::count(e.customers as f64), "customers in the test"),
        (format!("{}", o.arms.len()), "offers tested against a control"),
        (format::percent(o.control.conversion_rate), "bought without an offer"),
    ];
    ui.columns(tiles.len(), |columns| {
        for (ui, (value, caption)) in columns.iter_mut().zip(&tiles) {
            stat(ui, value, caption);
        }
    });
    ui.weak(format!("From {}.", e.source));
    section(ui, "What each offer did against the control");
    lifts_grid(ui, o);
    ui.add_space(theme::SPACE);
    lifts_chart(ui, o);
    section(ui, "Who responds: the uplift curve");
    uplift_chart(ui, e);
    section(ui, "The response model");
    for line in model_notes(&e.response) {
        ui.label(line.trim());
    }
    ui.weak(
        "A campaign's offer uses this evidence by naming its arm as its response in the campaign file \
         (`promo-studio plan --response`); the posterior draws carry what the past campaign left uncertain.",
    );
}

fn lifts_grid(ui: &mut egui::Ui, o: &ObservedLifts) {
    egui::Grid::new("observed-lifts").num_columns(6).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        let titles = [
            ("Arm", "The offer customers were randomised to"),
            ("Customers", "Customers randomised to the arm"),
            ("Conversion", "Share who bought in the window"),
            ("Lift (95% CI)", "Conversion minus the control's, in percentage points; Newcombe's interval"),
            ("Spend per customer", "Spend over the window per customer, non-buyers included (list prices)"),
            ("Spend lift (95% CI)", "Spend per customer minus the control's; Welch's interval"),
        ];
        for (title, meaning) in titles {
            ui.strong(title).on_hover_text(meaning);
        }
        ui.end_row();
        let money = |x: Option<f64>| x.map_or_else(|| "–".to_string(), |v| format!("{v:.2}"));
        ui.label(format!("{} (no offer)", o.control.arm));
        ui.label(format::count(o.control.customers as f64));
        ui.label(format::percent(o.control.conversion_rate));
        ui.label("");
        ui.label(money(o.control.spend_per_customer));
        ui.label("");
        ui.end_row();
        for a in &o.arms {
            let [lo, hi] = a.lift_conversion_ci95;
            ui.label(&a.outcome.arm);
            ui.label(format::count(a.outcome.customers as f64));
            ui.label(format::percent(a.outcome.conversion_rate));
            let text = format!("{:+.1} pts  [{:+.1}, {:+.1}]", a.lift_conversion * 100.0, lo * 100.0, hi * 100.0);
            // An interval clear of zero is evidence; one across it is not (yet).
            let sure = lo > 0.0 || hi < 0.0;
            ui.label(if sure { egui::RichText::new(text).color(theme::GOOD) } else { egui::RichText::new(text) });
            ui.label(money(a.outcome.spend_per_customer));
            ui.label(match (a.lift_spend, a.lift_spend_ci95) {
                (Some(l), Some([lo, hi])) => format!("{l:+.2}  [{lo:+.2}, {hi:+.2}]"),
                (Some(l), None) => format!("{l:+.2}"),
                _ => "–".to_string(),
            });
            ui.end_row();
        }
    });
}

/// Each arm's conversion lift as a bar, its 95% interval as a whisker; the
/// first arm on top, as in the table.
fn lifts_chart(ui: &mut egui::Ui, o: &ObservedLifts) {
    let n = o.arms.len();
    let y = |i: usize| (n - 1 - i) as f64;
    let bars: Vec<Bar> = o
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| Bar::new(y(i), a.lift_conversion * 100.0).width(0.5).name(&a.outcome.arm))
        .collect();
    let names: Vec<String> = o.arms.iter().map(|a| a.outcome.arm.clone()).collect();
    Plot::new("lift-chart")
        .height(60.0 + 45.0 * n as f64 as f32)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show_background(false)
        .x_axis_label("Conversion lift over the control, percentage points (bar: observed; line: 95% interval)")
        .x_axis_formatter(|mark, _| format!("{:+.0}", mark.value))
        .y_axis_formatter(row_names(names))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .include_x(0.0)
        .include_y(-0.6)
        .include_y(n as f64 - 0.4)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("Observed lift", bars).horizontal().color(theme::SEGMENT_COLOURS[0]));
            for (i, a) in o.arms.iter().enumerate() {
                let [lo, hi] = a.lift_conversion_ci95;
                let whisker = vec![[lo * 100.0, y(i)], [hi * 100.0, y(i)]];
                plot.line(Line::new("95% interval", PlotPoints::new(whisker)).color(theme::WARNING).width(2.5));
            }
        });
}

/// Per arm, the incremental buyers among the top share of customers ranked by
/// the model's predicted uplift, against a random order (dashed).
fn uplift_chart(ui: &mut egui::Ui, e: &CampaignEvidence) {
    ui.weak(
        "Customers ranked by the model's predicted uplift, best first: a curve above its dashed line finds the \
         customers the offer moves before the others. In-sample (the results the model was fitted to); held-out \
         measurements are in benches/calibrate_vs_sklift.sh.",
    );
    Plot::new("uplift-curve")
        .height(240.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .x_axis_label("Share of the arm's and the control's customers, by predicted uplift")
        .x_axis_formatter(|mark, _| format!("{:.0}%", mark.value * 100.0))
        .y_axis_label("Incremental buyers (Qini)")
        .include_y(0.0)
        .show(ui, |plot| {
            for (k, c) in e.curves.iter().enumerate() {
                let colour = theme::SEGMENT_COLOURS[k % theme::SEGMENT_COLOURS.len()];
                plot.line(Line::new(c.arm.clone(), PlotPoints::new(c.points.clone())).color(colour).width(2.0));
                let end = c.points.last().map_or(0.0, |p| p[1]);
                let random = PlotPoints::new(vec![[0.0, 0.0], [1.0, end]]);
                plot.line(Line::new(c.arm.clone(), random).color(colour).style(LineStyle::dashed_dense()));
            }
        });
}
