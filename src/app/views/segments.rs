//! The Segments screen: choose features, transforms and k (with the elbow and
//! silhouette chart), run k-means or the RFM rules, and read the result as a
//! scatter, bars, a profile table with names and value, and the RFM grid.

use std::path::PathBuf;

use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, Plot, Points};

use super::super::commands::EXPORT;
use super::super::dialogs::DialogPurpose;
use super::super::widgets::{empty_state, row_names, screen_title, section, settings_panel, stale_note, swatch};
use super::super::{Command, PromoStudioApp, theme};
use super::ScreenDecl;
use crate::core::format;
use crate::core::pipeline::{Stage, StageKey};
use crate::core::segment::rfm::{RFM_GROUPS, rfm_group};
use crate::core::segment::{FeatureSpec, RFM_RULES, Transform};
use crate::core::stages::dataset::LoadData;
use crate::core::stages::segments::{KScan, Method, SURE_MEMBER, SegmentAnalysis, Segments};

pub const SCREEN: ScreenDecl = ScreenDecl {
    title: "Segments",
    busy_with: &[Segments::NAME, KScan::NAME, EXPORT],
    summary: |app| app.flow.get::<Segments>().map(|s| format!("{} segments", s.segments.len())),
    show,
    on_result,
    on_demand: None,
};

/// Features chosen for an earlier file may not exist in a new one.
fn on_result(app: &mut PromoStudioApp, stage: StageKey, _: f64) {
    if stage != StageKey::of::<LoadData>() {
        return;
    }
    let Some(numeric) = app.dataset().map(|d| d.feature_rows.numeric_columns()) else { return };
    let choices = app.flow.choices.of_mut::<Segments>();
    choices.features.retain(|f| numeric.contains(&f.column));
    if choices.features.is_empty() {
        choices.features = FeatureSpec::defaults();
    }
}

fn show(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    settings_panel(ui, "segment-settings", |ui| segment_settings(app, ui));
    theme::central_panel(ui).show(ui, |ui| {
        screen_title(
            ui,
            "Segments",
            "Groups of customers you can act on, named from what sets them apart, with what each is worth.",
        );
        match app.flow.get::<Segments>().cloned() {
            None if app.is_running::<Segments>() => empty_state(ui, "Segmenting…"),
            None if app.dataset().is_none() => empty_state(ui, "Load data on the Data screen first."),
            None => empty_state(ui, "Choose settings on the left and press Run."),
            Some(a) => results(app, ui, &a),
        }
    });
}

fn transform_name(t: Transform) -> String {
    match t {
        Transform::None => "as is".into(),
        Transform::Log1p => "log(1 + x)".into(),
        Transform::Winsorise { percentile } => format!("clip at p{percentile:.0}"),
    }
}

fn segment_settings(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    let columns = app.dataset().map(|d| d.feature_rows.numeric_columns()).unwrap_or_default();
    let has_data = app.dataset().is_some();
    let choices = app.flow.choices.of_mut::<Segments>();
    section(ui, "Method");
    ui.vertical(|ui| {
        ui.radio_value(&mut choices.method, Method::KMeans, "k-means");
        ui.radio_value(&mut choices.method, Method::Mixture, "Gaussian mixture")
            .on_hover_text("Like k-means, but each buyer also gets the probability of belonging to its segment");
        ui.radio_value(&mut choices.method, Method::Rfm, "RFM rules");
    });
    if choices.method == Method::Rfm {
        ui.weak("Quintile scores for recency, frequency and monetary value, grouped by fixed rules (listed under the results).");
    } else {
        section(ui, "Features");
        ui.weak("Buyers are clustered on these columns, each transformed, then standardised.");
        egui::Grid::new("features").num_columns(2).spacing([theme::SPACE, 2.0]).show(ui, |ui| {
            for column in &columns {
                let position = choices.features.iter().position(|f| &f.column == column);
                let mut on = position.is_some();
                if ui.checkbox(&mut on, column).changed() {
                    match position {
                        Some(p) if !on => {
                            choices.features.remove(p);
                        }
                        None if on => choices.features.push(FeatureSpec::new(column, Transform::Log1p)),
                        _ => {}
                    }
                }
                if let Some(spec) = choices.features.iter_mut().find(|f| &f.column == column) {
                    egui::ComboBox::from_id_salt(("transform", column.as_str()))
                        .selected_text(transform_name(spec.transform))
                        .width(100.0)
                        .show_ui(ui, |ui| {
                            for t in [
                                Transform::None,
                                Transform::Log1p,
                                Transform::Winsorise { percentile: 99.0 },
                                Transform::Winsorise { percentile: 95.0 },
                            ] {
                                ui.selectable_value(&mut spec.transform, t, transform_name(t));
                            }
                        })
                        .response
                        .accessible_name(format!("transform of {column}"));
                } else {
                    ui.label("");
                }
                ui.end_row();
            }
        });
        section(ui, "Segments");
        ui.add(egui::Slider::new(&mut choices.k, 2..=12).text("k (segments)"));
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut choices.n_init).range(1..=50)).accessible_name("starts");
            ui.label("starts (best of)");
            ui.add(egui::DragValue::new(&mut choices.seed)).accessible_name("seed");
            ui.label("seed");
        });
    }
    ui.add_space(theme::SPACE);
    let can_run = has_data && (choices.method == Method::Rfm || !choices.features.is_empty());
    if ui.add_enabled(can_run, egui::Button::new(egui::RichText::new("▶ Run segmentation").strong())).clicked() {
        app.push(Command::run::<Segments>());
    }
    if app.flow.choices.of::<Segments>().method != Method::Rfm {
        choose_k(app, ui);
    }
}

fn choose_k(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    section(ui, "Choose k");
    let has_data = app.dataset().is_some();
    let mut scan = false;
    let choices = app.flow.choices.of_mut::<Segments>();
    ui.horizontal(|ui| {
        ui.label("from");
        ui.add(egui::DragValue::new(&mut choices.k_min).range(2..=20)).accessible_name("scan k from");
        ui.label("to");
        ui.add(egui::DragValue::new(&mut choices.k_max).range(2..=20)).accessible_name("scan k to");
        scan = ui.add_enabled(has_data, egui::Button::new("Scan")).clicked();
    });
    if scan {
        app.push(Command::run::<KScan>());
    }
    let Some(scan) = app.flow.get::<KScan>().cloned() else {
        ui.weak("Fits k-means for each k: inertia (the elbow) and the silhouette on a sample.");
        return;
    };
    let inertia: Vec<[f64; 2]> = scan.scores.iter().map(|s| [s.k as f64, s.inertia]).collect();
    let silhouette: Vec<[f64; 2]> = scan.scores.iter().map(|s| [s.k as f64, s.silhouette]).collect();
    let suggested = scan.suggested_k as f64;
    let small_plot = |id: &str, y: &str| {
        Plot::new(id.to_string())
            .height(120.0)
            .x_axis_label("k")
            .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 2.0, 10.0]))
            .x_axis_formatter(|mark, _| format!("{:.0}", mark.value))
            .y_axis_label(y.to_string())
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .show_x(false)
    };
    small_plot("elbow", "inertia").show(ui, |plot| {
        plot.line(Line::new("inertia", inertia.clone()).color(theme::SEGMENT_COLOURS[0]));
        plot.points(Points::new("inertia", inertia).radius(3.0).color(theme::SEGMENT_COLOURS[0]));
        plot.add(egui_plot::VLine::new("suggested k", suggested).color(theme::GOOD));
    });
    small_plot("silhouette", "silhouette").show(ui, |plot| {
        plot.line(Line::new("silhouette", silhouette.clone()).color(theme::SEGMENT_COLOURS[1]));
        plot.points(Points::new("silhouette", silhouette).radius(3.0).color(theme::SEGMENT_COLOURS[1]));
        plot.add(egui_plot::VLine::new("suggested k", suggested).color(theme::GOOD));
    });
    ui.label(egui::RichText::new(format!("Suggested: k = {}", scan.suggested_k)).strong());
    ui.weak(&scan.reason);
    ui.weak(format!(
        "Silhouettes on {} customers in {}.",
        format::count(scan.sample_size as f64),
        format::seconds(scan.silhouette_seconds)
    ));
    if ui.button(format!("Use k = {}", scan.suggested_k)).clicked() {
        app.flow.choices.of_mut::<Segments>().k = scan.suggested_k;
        app.push(Command::run::<Segments>());
    }
}

fn results(app: &mut PromoStudioApp, ui: &mut egui::Ui, a: &SegmentAnalysis) {
    let buyers_segments = a.segments.iter().filter(|s| s.id >= 0).count();
    let mut summary =
        format!("{} customers in {} segments", format::count(a.customer_ids.len() as f64), buyers_segments);
    if a.segments.iter().any(|s| s.id < 0) {
        summary.push_str(" + those with no purchase yet");
    }
    match (a.method, a.inertia) {
        (Method::KMeans, Some(inertia)) => {
            summary.push_str(&format!(" · k-means, inertia {}", format::decimal(inertia, 1)))
        }
        (Method::Mixture, Some(inertia)) => {
            summary.push_str(&format!(" · Gaussian mixture, inertia {}", format::decimal(inertia, 1)))
        }
        _ => summary.push_str(" · RFM rules"),
    }
    summary.push_str(&format!(" · {}", format::seconds(a.seconds)));
    ui.horizontal(|ui| {
        ui.label(summary);
    });
    if let Some(share) = a.sure_share {
        ui.weak(format!(
            "{} of buyers belong to their segment with probability ≥ {SURE_MEMBER}; the others sit between segments.",
            format::percent(share)
        ));
    }
    stale_note(ui, app.flow.is_stale::<Segments>(), "segments");
    export_row(app, ui);
    egui::ScrollArea::vertical().id_salt("segment-results").show(ui, |ui| {
        let width = ui.available_width();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_width(width * 0.56);
                scatter(app, ui, a);
            });
            ui.vertical(|ui| {
                ui.set_width(width * 0.42);
                bars(ui, a);
            });
        });
        profile_table(ui, a);
        ui.add_space(theme::SPACE);
        egui::CollapsingHeader::new("RFM grid (the rule-based alternative)")
            .default_open(a.method == Method::Rfm)
            .show(ui, |ui| rfm_grid(ui, a));
    });
}

fn export_row(app: &mut PromoStudioApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.label("Export the segment list:");
        ui.add(egui::TextEdit::singleline(&mut app.view.export_path).hint_text("segments.csv").desired_width(260.0))
            .accessible_name("Segment list file");
        if ui.add_enabled(!app.dialogs.is_open(), egui::Button::new("Save as…")).clicked() {
            app.open_dialog(DialogPurpose::SaveSegments, ui.ctx());
        }
        let path = app.view.export_path.trim().to_string();
        if ui
            .add_enabled(!path.is_empty(), egui::Button::new("Export CSV"))
            .on_hover_text("customer_id, segment, segment_name; written atomically")
            .clicked()
        {
            app.push(Command::ExportSegments { path: PathBuf::from(path) });
        }
    });
}

fn scatter(app: &PromoStudioApp, ui: &mut egui::Ui, a: &SegmentAnalysis) {
    section(ui, "Customers on the first two principal components");
    let Some(s) = &a.scatter else {
        ui.weak("RFM groups are rules, not a clustering: there is no projection to draw. The grid below shows them.");
        return;
    };
    let features = app.dataset().map(|d| &d.feature_rows);
    ui.weak(if s.sampled == s.buyers {
        format!("All {} buyers. Hover a point for the customer.", format::count(s.buyers as f64))
    } else {
        format!(
            "A seeded sample of {} of {} buyers. Hover a point for the customer.",
            format::count(s.sampled as f64),
            format::count(s.buyers as f64)
        )
    });
    // One plot series per segment, named, so the legend names them.
    let describe = move |h: &HoverPosition<'_>| -> Option<String> {
        let HoverPosition::NearDataPoint { plot_name, index, .. } = h else { return None };
        let series = s.series.iter().find(|x| a.name_of(x.segment) == *plot_name)?;
        let row = *series.rows.get(*index)?;
        let f = features?;
        let num = |c: &str| f.number(c, row);
        Some(format!(
            "Customer {} · {}\nlast order {} ago · {} orders · spent {}",
            f.customer_ids[row],
            plot_name,
            num("recency_days").map_or("–".into(), format::days),
            num("frequency").map_or("–".into(), format::count),
            num("monetary").map_or("–".into(), format::money)
        ))
    };
    Plot::new("segment-scatter")
        .height(300.0)
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .x_axis_label(format!("PC1 ({} of variance)", format::percent(s.explained_variance[0])))
        .y_axis_label(format!("PC2 ({})", format::percent(s.explained_variance[1])))
        .label_formatter(describe)
        .show(ui, |plot| {
            for series in &s.series {
                plot.points(
                    Points::new(a.name_of(series.segment), series.points.clone())
                        .color(theme::segment_colour(series.segment))
                        .radius(2.0)
                        .filled(true),
                );
            }
        });
}

fn bars(ui: &mut egui::Ui, a: &SegmentAnalysis) {
    section(ui, "Share of customers and of revenue");
    ui.weak("Revenue = monetary (returns included) of the segment's members.");
    let names: Vec<String> = a.profiles.iter().map(|p| p.name.clone()).collect();
    let n = names.len();
    // Largest segment on top.
    let y = |i: usize| (n - 1 - i) as f64;
    let customers: Vec<Bar> = a
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| Bar::new(y(i) + 0.2, p.share_of_customers * 100.0).width(0.38).name(&p.name))
        .collect();
    let revenue: Vec<Bar> = a
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| Bar::new(y(i) - 0.2, p.share_of_revenue * 100.0).width(0.38).name(&p.name))
        .collect();
    let label_names = names.clone();
    Plot::new("segment-bars")
        .height(300.0)
        .legend(Legend::default().position(egui_plot::Corner::RightBottom))
        .x_axis_label("% of all customers / of revenue")
        .x_axis_formatter(|mark, _| format!("{:.0}%", mark.value))
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [5.0, 10.0, 50.0]))
        .y_axis_formatter(row_names(label_names))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_x(0.0)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("customers %", customers).horizontal().color(theme::SEGMENT_COLOURS[0]));
            plot.bar_chart(BarChart::new("revenue %", revenue).horizontal().color(theme::SEGMENT_COLOURS[1]));
        });
}

fn profile_table(ui: &mut egui::Ui, a: &SegmentAnalysis) {
    section(ui, "Segment profiles");
    ui.weak("Means over the members; P(alive) and CLV (one year, from BG/NBD and Gamma-Gamma) over the buyers the value model scored.");
    egui::Grid::new("profiles").num_columns(9).striped(true).spacing([theme::SPACE_LARGE, 6.0]).show(ui, |ui| {
        let titles = [
            ("Segment", "Named from the segment's centre relative to the others"),
            ("Customers", "Members"),
            ("Share", "Share of all customers"),
            ("Revenue", "Share of all customers' monetary value (returns included)"),
            ("Last order", "Mean days since the last purchase order"),
            ("Orders", "Mean number of purchase orders"),
            ("Spent", "Mean monetary value: all purchase lines, returns included"),
            (
                "P(alive)",
                "Mean probability that a member still buys (BG/NBD). By the model's assumption, \
                 customers with a single purchase day count as alive",
            ),
            ("CLV / customer", "Mean expected spend over the next 365 days (BG/NBD × Gamma-Gamma)"),
        ];
        for (title, meaning) in titles {
            ui.strong(title).on_hover_text(meaning);
        }
        ui.end_row();
        for p in &a.profiles {
            ui.vertical(|ui| {
                ui.set_width(240.0);
                ui.horizontal(|ui| {
                    swatch(ui, theme::segment_colour(p.id));
                    ui.strong(&p.name);
                });
                ui.add(egui::Label::new(egui::RichText::new(&p.description).weak()).wrap());
                let top: Vec<&str> = p.top_categories.iter().map(|(c, _)| c.as_str()).collect();
                if !top.is_empty() {
                    ui.add(egui::Label::new(egui::RichText::new(format!("Top: {}", top.join(", "))).weak()).wrap());
                }
            });
            ui.label(format::count(p.customers as f64));
            ui.label(format::percent(p.share_of_customers));
            ui.label(format::percent(p.share_of_revenue));
            let mean = |c: &str| p.mean.get(c).copied();
            ui.label(mean("recency_days").map_or("–".into(), |d| format!("{} ago", format::days(d))));
            ui.label(mean("frequency").map_or("–".into(), |v| format::decimal(v, 1)));
            ui.label(mean("monetary").map_or("–".into(), format::money));
            ui.label(p.mean_p_alive.map_or("–".into(), format::percent));
            ui.label(p.mean_clv.map_or("–".into(), format::money));
            ui.end_row();
        }
    });
}

fn rfm_grid(ui: &mut egui::Ui, a: &SegmentAnalysis) {
    let counts = &a.rfm_grid;
    ui.weak("Buyers by recency score (rows, 5 = most recent) and combined frequency-monetary score (columns); each cell names its group.");
    egui::Grid::new("rfm-grid").num_columns(6).spacing([4.0, 4.0]).show(ui, |ui| {
        ui.label("");
        for fm in 1..=5 {
            ui.strong(format!("FM {fm}"));
        }
        ui.end_row();
        for r in (0..5).rev() {
            ui.strong(format!("R {}", r + 1));
            for (fm, count) in counts[r].iter().enumerate() {
                let g = rfm_group(r as u8 + 1, fm as u8 + 1);
                let colour = theme::segment_colour(g as i32);
                egui::Frame::new()
                    .fill(colour.gamma_multiply(0.35))
                    .corner_radius(3.0)
                    .inner_margin(egui::Margin::symmetric(6, 4))
                    .show(ui, |ui| {
                        ui.set_min_width(108.0);
                        ui.vertical(|ui| {
                            ui.label(egui::RichText::new(format::count(*count as f64)).strong());
                            ui.small(RFM_GROUPS[g]);
                        });
                    });
            }
            ui.end_row();
        }
    });
    ui.add_space(theme::SPACE);
    egui::Grid::new("rfm-rules").num_columns(3).striped(true).spacing([theme::SPACE_LARGE, 4.0]).show(ui, |ui| {
        ui.strong("Group");
        ui.strong("Buyers");
        ui.strong("Rule");
        ui.end_row();
        for (g, name) in RFM_GROUPS.iter().enumerate() {
            let n = a.rfm.group_size(g);
            ui.label(*name);
            ui.label(format::count(n as f64));
            ui.label(RFM_RULES[g]);
            ui.end_row();
        }
    });
}
